/* The C ABI between the sluice agent and plugin shared objects.
 *
 * A plugin library exports one function, sluice_plugin_init(), which returns a sluice_library:
 * the library's version and its plugin descriptors. The agent checks every descriptor, then
 * creates instances and calls their callbacks. Nothing of either side's C++ types crosses: the
 * agent and a plugin may be built with different compilers and standard libraries.
 *
 * Versioning
 *   SLUICE_ABI_MAJOR changes when anything changes incompatibly; the agent loads only libraries
 *   of its own major version. SLUICE_ABI_MINOR changes when fields are appended. Every struct
 *   passed by pointer starts with `struct_size` (and may grow at its end in a later minor
 *   version): a reader checks struct_size before reading a field added after 1.0. Structs used
 *   as array elements (sluice_str, sluice_tag, sluice_field, sluice_option_spec) never change
 *   within a major version; arrays of growable structs are passed as arrays of pointers.
 *
 * Ownership
 *   "borrowed": valid only for the duration of the call that receives it; copy what you keep.
 *   "static": lives as long as the library is loaded (the agent never unloads a library).
 *   Whoever allocates frees: the agent copies every metric and string a plugin gives it, and
 *   never frees plugin memory; a plugin frees its instance in destroy().
 *
 * Errors
 *   A callback reports failure by returning a status other than SLUICE_OK after describing the
 *   problem through the host's error_* functions. No exception, longjmp or signal may cross the
 *   boundary: a C++ plugin catches everything (the C++ SDK, sdk.hpp, does this for you).
 *
 * Threads
 *   The host calls one instance from one thread at a time, except that a service input's stop()
 *   may run while its own threads add metrics. Host functions may be called from any thread;
 *   a service input's accumulator may be used from several threads at once.
 */
#ifndef SLUICE_PLUGIN_ABI_H
#define SLUICE_PLUGIN_ABI_H

#include <stddef.h>
#include <stdint.h>

#define SLUICE_ABI_MAJOR 1
#define SLUICE_ABI_MINOR 1

/* Marks the one exported function; build plugins with -fvisibility=hidden so that nothing else
 * is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define SLUICE_EXPORT __attribute__((visibility("default")))
#else
#define SLUICE_EXPORT
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* A string that is not NUL-terminated. */
typedef struct sluice_str {
  const char* data;
  size_t size;
} sluice_str;

/* Results of callbacks. */
typedef int32_t sluice_status;
#define SLUICE_OK 0
#define SLUICE_ERROR 1        /* failed; the error's message says why */
#define SLUICE_ERROR_OPTION 2 /* an option's value is unacceptable; the error names the option */
#define SLUICE_RETRY 3        /* output write: transient failure, the batch is written again */
#define SLUICE_REJECT 4       /* output write: permanent failure, the batch is dropped */
#define SLUICE_SPLIT 5        /* output write: too large for the receiver, written in halves */

/* Plugin kinds. */
#define SLUICE_KIND_INPUT 1
#define SLUICE_KIND_SERVICE_INPUT 2
#define SLUICE_KIND_PROCESSOR 3
#define SLUICE_KIND_AGGREGATOR 4
#define SLUICE_KIND_OUTPUT 5
#define SLUICE_KIND_PARSER 6
#define SLUICE_KIND_SERIALIZER 7

/* Log levels. */
#define SLUICE_LOG_DEBUG 0
#define SLUICE_LOG_INFO 1
#define SLUICE_LOG_WARN 2
#define SLUICE_LOG_ERROR 3

/* ---- Metrics ------------------------------------------------------------------------------ */

/* What a metric's values mean to a consumer such as Prometheus. */
#define SLUICE_VALUE_UNTYPED 0
#define SLUICE_VALUE_COUNTER 1
#define SLUICE_VALUE_GAUGE 2
#define SLUICE_VALUE_SUMMARY 3
#define SLUICE_VALUE_HISTOGRAM 4

/* Field value types. */
#define SLUICE_FIELD_FLOAT 0
#define SLUICE_FIELD_INT 1
#define SLUICE_FIELD_UINT 2
#define SLUICE_FIELD_BOOL 3
#define SLUICE_FIELD_STRING 4

typedef struct sluice_tag {
  sluice_str key;
  sluice_str value;
} sluice_tag;

typedef union sluice_field_value {
  double f64;        /* SLUICE_FIELD_FLOAT */
  int64_t i64;       /* SLUICE_FIELD_INT */
  uint64_t u64;      /* SLUICE_FIELD_UINT */
  int32_t boolean;   /* SLUICE_FIELD_BOOL: 0 or 1 */
  sluice_str string; /* SLUICE_FIELD_STRING */
} sluice_field_value;

typedef struct sluice_field {
  sluice_str key;
  uint32_t type; /* SLUICE_FIELD_* */
  sluice_field_value value;
} sluice_field;

/* A read-only view of one metric. From the host: tags sorted by key with unique keys, fields
 * in insertion order with unique keys, all borrowed. To the host (accumulator_add, emit): tags
 * in any order and a later duplicate key wins, for tags and fields alike; the host copies it
 * all before the call returns. */
typedef struct sluice_metric {
  uint32_t struct_size;
  uint32_t value_type; /* SLUICE_VALUE_* */
  sluice_str name;
  int64_t time_ns; /* ns since the Unix epoch; to an accumulator, 0 means the gather's time */
  const sluice_tag* tags;
  size_t tag_count;
  const sluice_field* fields;
  size_t field_count;
} sluice_metric;

/* ---- Options ------------------------------------------------------------------------------ */

/* Option types, as in the agent's config files. */
#define SLUICE_OPTION_BOOL 0
#define SLUICE_OPTION_INT 1   /* int64 */
#define SLUICE_OPTION_FLOAT 2 /* double */
#define SLUICE_OPTION_STRING 3
#define SLUICE_OPTION_DURATION 4        /* "500ms", "10s"; read as int64 ns */
#define SLUICE_OPTION_SIZE 5            /* "64MiB"; read as uint64 bytes */
#define SLUICE_OPTION_STRING_LIST 6     /* [a, b] */
#define SLUICE_OPTION_STRING_MAP 7      /* {key: value} */
#define SLUICE_OPTION_STRING_MAP_LIST 8 /* [{key: value}, ...] */
#define SLUICE_OPTION_STRING_LIST_MAP 9 /* {key: [a, b]} */

/* One entry of a plugin's option table; the host validates the user's config against it. */
typedef struct sluice_option_spec {
  const char* name;         /* static, NUL-terminated */
  uint32_t type;            /* SLUICE_OPTION_* */
  uint32_t required;        /* nonzero: the user must set it */
  const char* default_yaml; /* static; the default as YAML text; NULL or "": the zero value */
  const char* doc;          /* static; one line, shown in samples and READMEs */
} sluice_option_spec;

/* ---- Objects of the host, seen by plugins only through pointers ------------------------- */

typedef struct sluice_error sluice_error;             /* where a callback describes a failure */
typedef struct sluice_logger sluice_logger;           /* an instance's logger */
typedef struct sluice_options sluice_options;         /* an instance's validated options */
typedef struct sluice_accumulator sluice_accumulator; /* where inputs and aggregators add */
typedef struct sluice_emitter sluice_emitter;         /* where a processor puts its results */
typedef struct sluice_buffer sluice_buffer;           /* where a serializer appends bytes */

/* Defined below; declared here for sluice_create_args. */
typedef struct sluice_plugin sluice_plugin;

/* ---- What the host offers ------------------------------------------------------------------ */

/* Static: valid from sluice_plugin_init until the process exits. Every function is safe to call
 * from any thread and never fails in a way the plugin must handle, unless it returns a status. */
typedef struct sluice_host_api {
  uint32_t struct_size;
  uint32_t abi_major;
  uint32_t abi_minor;
  const char* agent_version; /* static */

  /* Errors: the message (and option) are copied; the last call wins. */
  void (*error_set)(sluice_error* error, sluice_str message);
  /* Names the option whose value is unacceptable (with SLUICE_ERROR_OPTION). */
  void (*error_set_option)(sluice_error* error, sluice_str option);
  /* Output writes with SLUICE_RETRY: the server's own Retry-After, in ns. */
  void (*error_set_retry_after)(sluice_error* error, int64_t retry_after_ns);

  /* Logging: each line carries the instance's kind, name and alias. `message` is copied. */
  void (*log)(sluice_logger* logger, int32_t level, sluice_str message);
  int32_t (*log_enabled)(const sluice_logger* logger, int32_t level);

  /* Options, read during create() only (strings returned are borrowed until create returns).
   * Each returns SLUICE_OK, or SLUICE_ERROR for an undeclared option, a wrong type or an index
   * out of range. */
  int32_t (*option_is_set)(const sluice_options* options, sluice_str name); /* by the user */
  sluice_status (*option_bool)(const sluice_options* options, sluice_str name, int32_t* out);
  sluice_status (*option_int)(const sluice_options* options, sluice_str name, int64_t* out);
  sluice_status (*option_float)(const sluice_options* options, sluice_str name, double* out);
  sluice_status (*option_string)(const sluice_options* options, sluice_str name, sluice_str* out);
  sluice_status (*option_duration)(const sluice_options* options, sluice_str name, int64_t* out_ns);
  sluice_status (*option_size)(const sluice_options* options, sluice_str name, uint64_t* out);
  /* Collections. STRING_LIST: count items; item i in `value` (`key` empty).
   * STRING_MAP: count entries; entry i in `key`, `value`.
   * STRING_MAP_LIST: count maps; sub_count of map i; sub_item j of map i in `key`, `value`.
   * STRING_LIST_MAP: count keys; item i is key i (in `key`); sub_count of key i's list;
   * sub_item j of key i: `key` is the key, `value` its j-th string. */
  sluice_status (*option_count)(const sluice_options* options, sluice_str name, size_t* out);
  sluice_status (*option_item)(const sluice_options* options, sluice_str name, size_t index,
                               sluice_str* key, sluice_str* value);
  sluice_status (*option_sub_count)(const sluice_options* options, sluice_str name, size_t index,
                                    size_t* out);
  sluice_status (*option_sub_item)(const sluice_options* options, sluice_str name, size_t index,
                                   size_t sub_index, sluice_str* key, sluice_str* value);

  /* Accumulators: `metric` is copied. */
  void (*accumulator_add)(sluice_accumulator* acc, const sluice_metric* metric);
  /* Reports a failure of this gather; it is logged and counted, and the gather goes on. */
  void (*accumulator_add_error)(sluice_accumulator* acc, sluice_str message);
  /* The time of the current gather, ns since the epoch. */
  int64_t (*accumulator_time)(const sluice_accumulator* acc);

  /* Processor results, in the order of the calls. emit_input passes input `index` on (with
   * the changes made by the input_* functions); each index at most once. An input that is not
   * emitted is dropped. emit adds a new metric, which is copied. */
  void (*emit_input)(sluice_emitter* out, size_t index);
  void (*emit)(sluice_emitter* out, const sluice_metric* metric);
  /* Change input `index` in place, before emit_input. The input's view is stale afterwards:
   * read what you need first. */
  void (*input_set_name)(sluice_emitter* out, size_t index, sluice_str name);
  void (*input_set_time)(sluice_emitter* out, size_t index, int64_t time_ns);
  void (*input_set_tag)(sluice_emitter* out, size_t index, sluice_str key, sluice_str value);
  void (*input_remove_tag)(sluice_emitter* out, size_t index, sluice_str key);
  void (*input_set_field)(sluice_emitter* out, size_t index, const sluice_field* field);
  void (*input_remove_field)(sluice_emitter* out, size_t index, sluice_str key);

  /* Serializer output: the bytes are copied. */
  void (*buffer_append)(sluice_buffer* out, const char* data, size_t size);
} sluice_host_api;

/* ---- What a plugin offers ----------------------------------------------------------------- */

/* What create() gets. */
typedef struct sluice_create_args {
  uint32_t struct_size;
  const sluice_host_api* host;   /* static */
  const sluice_plugin* plugin;   /* the descriptor whose create() this is */
  const sluice_options* options; /* borrowed: read them during create */
  sluice_logger* logger;         /* valid until destroy() returns */
} sluice_create_args;

/* SLUICE_KIND_INPUT and SLUICE_KIND_SERVICE_INPUT. */
typedef struct sluice_input_callbacks {
  uint32_t struct_size;
  /* Called every interval. `acc` is borrowed. NULL for a service input that never gathers. */
  sluice_status (*gather)(void* instance, sluice_accumulator* acc, sluice_error* error);
  /* Service inputs only (NULL otherwise): start adding metrics from the plugin's own threads;
   * `acc` stays valid until stop() returns. */
  sluice_status (*start)(void* instance, sluice_accumulator* acc, sluice_error* error);
  void (*stop)(void* instance);
} sluice_input_callbacks;

typedef struct sluice_processor_callbacks {
  uint32_t struct_size;
  /* metrics[0..count) are borrowed. What goes on is what the plugin emits (see emit_input and
   * emit); when it fails, the whole batch is dropped. */
  sluice_status (*process)(void* instance, const sluice_metric* const* metrics, size_t count,
                           sluice_emitter* out, sluice_error* error);
} sluice_processor_callbacks;

/* The host serialises calls to add, push and reset of one instance. */
typedef struct sluice_aggregator_callbacks {
  uint32_t struct_size;
  sluice_status (*add)(void* instance, const sluice_metric* metric, sluice_error* error);
  /* Emits the aggregates of the window that ends now. */
  sluice_status (*push)(void* instance, sluice_accumulator* acc, sluice_error* error);
  /* Forgets the window's state. */
  void (*reset)(void* instance);
} sluice_aggregator_callbacks;

typedef struct sluice_output_callbacks {
  uint32_t struct_size;
  /* Opens connections; NULL when there is nothing to open. A failure is retried. */
  sluice_status (*connect)(void* instance, sluice_error* error);
  /* metrics[0..count) are borrowed. Returns SLUICE_OK, SLUICE_RETRY, SLUICE_REJECT or
   * SLUICE_SPLIT (SLUICE_ERROR counts as SLUICE_RETRY). */
  sluice_status (*write)(void* instance, const sluice_metric* const* metrics, size_t count,
                         sluice_error* error);
  /* NULL when there is nothing to close. */
  void (*close)(void* instance);
} sluice_output_callbacks;

typedef struct sluice_serializer_callbacks {
  uint32_t struct_size;
  /* Appends the metric's bytes to `out`; a metric with nothing to write appends nothing. */
  sluice_status (*serialize)(void* instance, const sluice_metric* metric, sluice_buffer* out,
                             sluice_error* error);
  /* Formats with a batch envelope; NULL: serialize() for each metric. */
  sluice_status (*serialize_batch)(void* instance, const sluice_metric* const* metrics,
                                   size_t count, sluice_buffer* out, sluice_error* error);
} sluice_serializer_callbacks;

typedef struct sluice_parser_callbacks {
  uint32_t struct_size;
  /* Parses one message, `data` (borrowed), and adds the metrics it holds to `acc`; a metric
   * with time_ns 0 gets accumulator_time(acc). Each bad record is reported with
   * accumulator_add_error (the input counts it rejected) and the rest of the message is read
   * on. Returning an error ends this message only. */
  sluice_status (*parse)(void* instance, sluice_str data, sluice_accumulator* acc,
                         sluice_error* error);
} sluice_parser_callbacks;

/* Flags of a plugin. */
#define SLUICE_PLUGIN_NEEDS_PREVIOUS_GATHER 1u /* inputs reporting differences between gathers */
/* parsers: any run of complete lines is a message on its own (as line protocol), so a stream
 * input may hand over many lines at once instead of one by one. Since ABI 1.1. */
#define SLUICE_PLUGIN_SPLITS_ON_LINES 2u

/* One plugin. Static, as everything it points to. */
struct sluice_plugin {
  uint32_t struct_size;
  uint32_t abi_major; /* SLUICE_ABI_MAJOR of the header the plugin was built with */
  uint32_t kind;      /* SLUICE_KIND_* */
  uint32_t flags;     /* SLUICE_PLUGIN_* */
  const char* name;   /* [a-z0-9_]+, the name under its section in config files */
  const char* description;
  const sluice_option_spec* options; /* the plugin's own options; the host adds its own */
  size_t option_count;
  /* Creates an instance, owned by the plugin until destroy(). On failure returns NULL after
   * error_set (and error_set_option when an option's value is unacceptable). */
  void* (*create)(const sluice_create_args* args, sluice_error* error);
  void (*destroy)(void* instance);
  /* The callbacks of `kind`: sluice_input_callbacks (both input kinds),
   * sluice_processor_callbacks, sluice_aggregator_callbacks, sluice_output_callbacks,
   * sluice_parser_callbacks or sluice_serializer_callbacks. */
  const void* callbacks;
  /* The plugin's own, never read by the host; create() finds it through args->plugin. */
  const void* data;
};

/* What sluice_plugin_init returns. Static. */
typedef struct sluice_library {
  uint32_t struct_size;
  uint32_t abi_major; /* SLUICE_ABI_MAJOR of the header the library was built with */
  uint32_t abi_minor;
  uint32_t plugin_count;
  const sluice_plugin* const* plugins;
  const char* version; /* the library's own version, e.g. "1.2.0" */
  /* NULL, or why the library cannot work with this host (e.g. the host is too old). */
  const char* error;
} sluice_library;

/* The one symbol a plugin library exports. Called once, right after loading, before any other
 * call; `host` is static. Returns the library's descriptor (static); a library built for
 * another major version still returns it, so that the host can say so. */
SLUICE_EXPORT const sluice_library* sluice_plugin_init(const sluice_host_api* host,
                                                       uint32_t host_abi_major);

typedef const sluice_library* (*sluice_plugin_init_fn)(const sluice_host_api* host,
                                                       uint32_t host_abi_major);
#define SLUICE_PLUGIN_INIT_SYMBOL "sluice_plugin_init"

#ifdef __cplusplus
}
#endif

#endif /* SLUICE_PLUGIN_ABI_H */
