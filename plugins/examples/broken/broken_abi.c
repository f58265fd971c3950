/* A library built for a plugin ABI major version the agent does not have: the agent must refuse
 * it, naming the file and both versions, before any of its plugins runs. Plain C against
 * sluice/plugin_abi.h alone, which also shows what the C++ SDK does for a plugin. */
#include "sluice/plugin_abi.h"

#define FUTURE_MAJOR (SLUICE_ABI_MAJOR + 1)

static const sluice_host_api* host;

static void* create(const sluice_create_args* args, sluice_error* error) {
  static int instance;
  (void)args;
  (void)error;
  return &instance;
}

static void destroy(void* instance) { (void)instance; }

/* Passes every metric on unchanged. */
static sluice_status process(void* instance, const sluice_metric* const* metrics, size_t count,
                             sluice_emitter* out, sluice_error* error) {
  size_t i;
  (void)instance;
  (void)metrics;
  (void)error;
  for (i = 0; i < count; ++i) host->emit_input(out, i);
  return SLUICE_OK;
}

static const sluice_processor_callbacks callbacks = {sizeof(sluice_processor_callbacks), process};

static const sluice_plugin plugin = {sizeof(sluice_plugin),
                                     FUTURE_MAJOR,
                                     SLUICE_KIND_PROCESSOR,
                                     0,
                                     "from_the_future",
                                     "A pass-through processor built for another ABI",
                                     NULL,
                                     0,
                                     create,
                                     destroy,
                                     &callbacks,
                                     NULL};

static const sluice_plugin* const plugins[] = {&plugin};

static const sluice_library library = {
    sizeof(sluice_library), FUTURE_MAJOR, 0, 1, plugins, "0.0.1", NULL};

const sluice_library* sluice_plugin_init(const sluice_host_api* h, uint32_t host_abi_major) {
  (void)host_abi_major;
  host = h;
  return &library;
}
