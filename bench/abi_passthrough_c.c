/* abi_bench's pass-through processor against the C ABI alone: it reads each metric's view and
 * passes it on by index. What the boundary itself costs, without the C++ SDK's copies. */
#include "sluice/plugin_abi.h"

static const sluice_host_api* host;

typedef struct counter {
  size_t seen;
} counter;

static counter the_counter;

static void* create(const sluice_create_args* args, sluice_error* error) {
  (void)args;
  (void)error;
  return &the_counter;
}

static void destroy(void* instance) { (void)instance; }

static sluice_status process(void* instance, const sluice_metric* const* metrics, size_t count,
                             sluice_emitter* out, sluice_error* error) {
  size_t i;
  counter* c = (counter*)instance;
  (void)error;
  for (i = 0; i < count; ++i) {
    c->seen += metrics[i]->field_count;
    host->emit_input(out, i);
  }
  return SLUICE_OK;
}

static const sluice_processor_callbacks callbacks = {sizeof(sluice_processor_callbacks), process};

static const sluice_plugin plugin = {sizeof(sluice_plugin),
                                     SLUICE_ABI_MAJOR,
                                     SLUICE_KIND_PROCESSOR,
                                     0,
                                     "passthrough_c",
                                     "Passes metrics on, from a shared object in C",
                                     NULL,
                                     0,
                                     create,
                                     destroy,
                                     &callbacks,
                                     NULL};

static const sluice_plugin* const plugins[] = {&plugin};

static const sluice_library library = {
    sizeof(sluice_library), SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR, 1, plugins, "1.0.0", NULL};

SLUICE_EXPORT const sluice_library* sluice_plugin_init(const sluice_host_api* h, uint32_t major) {
  (void)major;
  host = h;
  return &library;
}
