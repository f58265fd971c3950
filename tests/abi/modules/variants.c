/* Plugin libraries with one defect each, for the loader's refusals; VARIANT picks the defect.
 * Without a defect (VARIANT_GOOD) it is a valid pass-through processor named "c_pass". */
#include "sluice/plugin_abi.h"

static const sluice_host_api* host;

static void* create(const sluice_create_args* args, sluice_error* error) {
  static int instance;
  (void)args;
  (void)error;
  return &instance;
}

static void destroy(void* instance) { (void)instance; }

static sluice_status process(void* instance, const sluice_metric* const* metrics, size_t count,
                             sluice_emitter* out, sluice_error* error) {
  size_t i;
  (void)instance;
  (void)metrics;
  (void)error;
  for (i = 0; i < count; ++i) host->emit_input(out, i);
  return SLUICE_OK;
}

static sluice_status gather(void* instance, sluice_accumulator* acc, sluice_error* error) {
  (void)instance;
  (void)acc;
  (void)error;
  return SLUICE_OK;
}

static const sluice_processor_callbacks processor_callbacks = {sizeof(sluice_processor_callbacks),
#ifdef VARIANT_NULL_CALLBACK
                                                               NULL
#else
                                                                process
#endif
};
static const sluice_input_callbacks input_callbacks = {sizeof(sluice_input_callbacks), gather, NULL,
                                                       NULL};

static const sluice_option_spec options[] = {
#ifdef VARIANT_HOST_OPTION
    {"alias", SLUICE_OPTION_STRING, 0, "", "Clashes with the agent's own option"},
#endif
    {"level", SLUICE_OPTION_INT, 0, "1", "Some option"},
};

static const sluice_plugin plugin = {
#ifdef VARIANT_SMALL_PLUGIN
    8,
#else
    sizeof(sluice_plugin),
#endif
    SLUICE_ABI_MAJOR,
#ifdef VARIANT_CLASH_CPU
    SLUICE_KIND_INPUT,
    0,
    "cpu",
#elif defined(VARIANT_BAD_NAME)
    SLUICE_KIND_PROCESSOR,
    0,
    "Bad-Name",
#else
    SLUICE_KIND_PROCESSOR,
    0,
    "c_pass",
#endif
    "A pass-through processor in C",
    options,
    sizeof(options) / sizeof(options[0]),
    create,
    destroy,
#ifdef VARIANT_CLASH_CPU
    &input_callbacks,
#else
    &processor_callbacks,
#endif
    NULL};

static const sluice_plugin* const plugins[] = {&plugin};

static const sluice_library library = {
#ifdef VARIANT_SMALL_LIBRARY
    12,
#else
    sizeof(sluice_library),
#endif
    SLUICE_ABI_MAJOR,
    SLUICE_ABI_MINOR,
    1,
    plugins,
    "0.1.0",
#ifdef VARIANT_LIBRARY_ERROR
    "needs a feature this agent lacks"
#else
    NULL
#endif
};

#ifdef VARIANT_NO_INIT
int not_a_plugin(void) {
  return (int)library.plugin_count + (int)processor_callbacks.struct_size +
         (int)input_callbacks.struct_size + (host != 0);
}
#else
SLUICE_EXPORT const sluice_library* sluice_plugin_init(const sluice_host_api* h, uint32_t major) {
  (void)major;
  (void)input_callbacks;
  (void)processor_callbacks;
  (void)process;
  host = h;
  return &library;
}
#endif
