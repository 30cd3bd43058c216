package main

import (
	"os"
	"runtime/debug"
)

// collectGarbageSooner has Go's garbage collector run once the heap has grown by
// half since the last collection instead of doubled (GOGC=50 rather than 100),
// unless GOGC is set. The window's live heap is small (about 12 MB after a walk
// through every screen, most of it the parsed fonts) but drawing text makes a
// lot of short-lived garbage (shaping, rasterising, 240 MB over the walk), and
// that garbage is what sets the peak. Measured under Xvfb after the walk
// (scripts/screenshots.sh, one after the other): 143.1 and 145.0 MB peak RSS
// against 149.7 and 149.5 MB with the default; the later starts' first frame
// about 50 ms later (226–250 against 177–187 ms). A soft memory limit instead
// (GOMEMLIMIT=40MiB, below what the runtime itself holds) saved nothing and
// doubled the first frame.
func collectGarbageSooner() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(50)
	}
}
