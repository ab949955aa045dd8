// Package debuginfod fetches ELF executables and separate debug files by
// GNU build id from debuginfod servers, the HTTP protocol elfutils
// defined and distributions run (debuginfod.debian.net,
// debuginfod.fedoraproject.org, debuginfod.elfutils.org):
//
//	GET <server>/buildid/<hex build id>/debuginfo
//	GET <server>/buildid/<hex build id>/executable
//
// See https://sourceware.org/elfutils/Debuginfod.html and the
// debuginfod-client(7) manual for the environment it shares with GDB and
// elfutils (DEBUGINFOD_URLS, a space-separated server list).
//
// Why hand-written: no maintained, standalone Go client exists. Delve's
// pkg/proc/debuginfod runs the debuginfod-find command; Parca and Grafana
// Pyroscope each keep a client inside their own services (with their
// storage and logging stacks); others are parts of profiling agents. The
// protocol is one GET per file, so a small client costs less than any of
// those dependencies, and core may use only the standard library plus a
// short list of libraries anyway.
//
// Client.Fetch tries each server in turn and keeps what it downloads in a
// cache directory with debuginfod-client's layout, <cache>/<hex>/<kind>,
// so the files are also found by elfsym.Finder when the cache is one of
// its Dirs. Downloads go to a temporary file renamed into place only once
// complete and checked (the file's build id must be the one asked for),
// so a cancelled or failed download leaves nothing behind. A build id no
// server has is remembered for MissTTL (10 minutes by default, like
// debuginfod-client's cache_miss_s), so stack walks that ask again and
// again do not hit the network each time. Downloads are bounded in size
// and abandoned when no data arrives for Timeout.
//
// The package is the only one in core that imports net/http: elfsym takes
// a plain function (elfsym.Finder.Fetch), and Client.Fetch is one.
package debuginfod
