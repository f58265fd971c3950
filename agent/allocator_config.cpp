// jemalloc's settings, read by jemalloc at start from this symbol of the executable.
//
// Each thread that allocates gets a cache of freed objects (its tcache). With the default slot
// counts an idle thread costs about 45 KiB more than under glibc's malloc, which adds up for a
// listener with a thread per connection; these smaller caches halve that and cost no measurable
// CPU (listener_bench, TCP into socket_listener). MALLOC_CONF in the environment still applies
// on top.
extern "C" {
const char* malloc_conf = "tcache_nslots_small_max:32,tcache_nslots_large:8";
}
