/* Plugins written against the C ABI alone: a processor that changes metrics in place through the
 * host, drops some, reorders on request and adds a summary; and a parser of "name value" lines
 * that reports each bad line and reads on. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sluice/plugin_abi.h"

static const sluice_host_api* host;

static sluice_str str(const char* s) {
  sluice_str out;
  out.data = s;
  out.size = strlen(s);
  return out;
}

static int has_tag(const sluice_metric* m, const char* key) {
  size_t i;
  for (i = 0; i < m->tag_count; ++i) {
    if (m->tags[i].key.size == strlen(key) &&
        memcmp(m->tags[i].key.data, key, m->tags[i].key.size) == 0) {
      return 1;
    }
  }
  return 0;
}

typedef struct tagger {
  int64_t level;
} tagger;

static tagger the_tagger;

static void* create(const sluice_create_args* args, sluice_error* error) {
  if (args->host->option_int(args->options, str("level"), &the_tagger.level) != SLUICE_OK) {
    args->host->error_set(error, str("cannot read level"));
    return NULL;
  }
  if (the_tagger.level < 0) {
    args->host->error_set(error, str("must not be negative"));
    args->host->error_set_option(error, str("level"));
    return NULL;
  }
  return &the_tagger;
}

static void destroy(void* instance) { (void)instance; }

/* Metrics tagged drop=... are dropped; the others get tagged=yes and field index=<their index>,
 * in reverse order when the first metric is tagged reverse; then a c_summary metric counts the
 * inputs. */
static sluice_status process(void* instance, const sluice_metric* const* metrics, size_t count,
                             sluice_emitter* out, sluice_error* error) {
  size_t n, i;
  int reverse = count > 0 && has_tag(metrics[0], "reverse");
  sluice_field index_field, count_field, level_field;
  sluice_field fields[2];
  sluice_metric summary;
  (void)error;
  for (n = 0; n < count; ++n) {
    i = reverse ? count - 1 - n : n;
    if (has_tag(metrics[i], "drop")) continue;
    index_field.key = str("index");
    index_field.type = SLUICE_FIELD_INT;
    index_field.value.i64 = (int64_t)i;
    host->input_set_tag(out, i, str("tagged"), str("yes"));
    host->input_set_field(out, i, &index_field);
    host->emit_input(out, i);
  }
  count_field.key = str("count");
  count_field.type = SLUICE_FIELD_UINT;
  count_field.value.u64 = count;
  level_field.key = str("level");
  level_field.type = SLUICE_FIELD_INT;
  level_field.value.i64 = ((tagger*)instance)->level;
  fields[0] = count_field;
  fields[1] = level_field;
  memset(&summary, 0, sizeof summary);
  summary.struct_size = sizeof summary;
  summary.name = str("c_summary");
  summary.time_ns = 1;
  summary.fields = fields;
  summary.field_count = 2;
  host->emit(out, &summary);
  return SLUICE_OK;
}

static int parser_instance;

static void* create_parser(const sluice_create_args* args, sluice_error* error) {
  (void)args;
  (void)error;
  return &parser_instance;
}

/* One line "name value": a metric `name` with the float field value; time 0, so the agent gives
 * it the message's time. */
static void parse_line(const char* line, size_t size, size_t number, sluice_accumulator* acc) {
  char text[256], message[320];
  char* space;
  char* end;
  double value;
  sluice_field field;
  sluice_metric m;
  if (size == 0) return;
  if (size >= sizeof text) {
    snprintf(message, sizeof message, "line %zu: longer than %zu bytes", number, sizeof text - 1);
    host->accumulator_add_error(acc, str(message));
    return;
  }
  memcpy(text, line, size);
  text[size] = '\0';
  space = strchr(text, ' ');
  value = space != NULL ? strtod(space + 1, &end) : 0;
  if (space == NULL || space == text || end == space + 1 || *end != '\0') {
    snprintf(message, sizeof message, "line %zu: \"%s\" is not \"name value\"", number, text);
    host->accumulator_add_error(acc, str(message));
    return;
  }
  *space = '\0';
  field.key = str("value");
  field.type = SLUICE_FIELD_FLOAT;
  field.value.f64 = value;
  memset(&m, 0, sizeof m);
  m.struct_size = sizeof m;
  m.name = str(text);
  m.fields = &field;
  m.field_count = 1;
  host->accumulator_add(acc, &m);
}

static sluice_status parse(void* instance, sluice_str data, sluice_accumulator* acc,
                           sluice_error* error) {
  size_t start = 0, i, number = 1;
  (void)instance;
  (void)error;
  for (i = 0; i <= data.size; ++i) {
    if (i == data.size || data.data[i] == '\n') {
      parse_line(data.data + start, i - start, number++, acc);
      start = i + 1;
    }
  }
  return SLUICE_OK;
}

static const sluice_processor_callbacks processor_callbacks = {sizeof(sluice_processor_callbacks),
                                                               process};
static const sluice_parser_callbacks parser_callbacks = {sizeof(sluice_parser_callbacks), parse};

static const sluice_option_spec options[] = {
    {"level", SLUICE_OPTION_INT, 0, "7", "Copied into the summary"},
};

static const sluice_plugin tagger_plugin = {sizeof(sluice_plugin),
                                            SLUICE_ABI_MAJOR,
                                            SLUICE_KIND_PROCESSOR,
                                            0,
                                            "c_tagger",
                                            "Tags, drops and counts metrics, in C",
                                            options,
                                            1,
                                            create,
                                            destroy,
                                            &processor_callbacks,
                                            NULL};
static const sluice_plugin parser_plugin = {sizeof(sluice_plugin),
                                            SLUICE_ABI_MAJOR,
                                            SLUICE_KIND_PARSER,
                                            SLUICE_PLUGIN_SPLITS_ON_LINES,
                                            "c_parser",
                                            "Reads \"name value\" lines",
                                            NULL,
                                            0,
                                            create_parser,
                                            destroy,
                                            &parser_callbacks,
                                            NULL};

static const sluice_plugin* const plugins[] = {&tagger_plugin, &parser_plugin};

static const sluice_library library = {
    sizeof(sluice_library), SLUICE_ABI_MAJOR, SLUICE_ABI_MINOR, 2, plugins, "2.3.4", NULL};

SLUICE_EXPORT const sluice_library* sluice_plugin_init(const sluice_host_api* h, uint32_t major) {
  (void)major;
  host = h;
  return &library;
}
