// Linked into every executable of a ThreadSanitizer build (STSYNC_TSAN), so
// that `ctest` in build-tsan, a hand-run binary and CI see the same rules
// without a TSAN_OPTIONS=suppressions=... to remember.
//
// Debian's libcpp-httplib.so is not built with -fsanitize=thread. TSan sees
// its memory accesses only through interceptors (memcpy, memcmp) and misses
// the inline acquire load with which compiled code skips an initialised
// function-local static. The first two requests a server (or client) handles
// on two threads at once therefore look like a race on the static's data:
// CI saw it on `static const std::set<std::string> methods` of httplib's
// request-line parser (a 64-byte set node written by one worker, compared by
// another). Reports with a frame in that library are suppressed; races in
// this project's own (instrumented) code on its own data are still reported,
// as the TSan build's ctest `tsan_reports_races` shows (tests/tsan_canary.cc).
extern "C" const char* __tsan_default_suppressions() {
  return "race:libcpp-httplib.so\n";
}
