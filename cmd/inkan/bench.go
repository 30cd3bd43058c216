package main

import (
	"fmt"
	"os"
	"runtime"
	"time"

	"fyne.io/fyne/v2"

	"github.com/inkan-dev/inkan/ui"
)

// processStart is as close to the start of the process as Go code gets: package
// variables are initialised before main and before any init function of main.
var processStart = time.Now()

// reportStartup prints, once the window has drawn its first frame, the time since
// the process started and the memory in use, then exits. scripts/smoke-gui.sh runs
// it under Xvfb and docs/gui.md records the numbers.
func reportStartup(a fyne.App, u *ui.UI) {
	a.Lifecycle().SetOnStarted(func() {
		// SetOnStarted runs as the event loop starts; Capture then renders the
		// window's first frame, so the time below includes it.
		go func() {
			fyne.Do(func() {
				u.Window().Canvas().Capture()
				elapsed := time.Since(processStart)
				var m runtime.MemStats
				runtime.ReadMemStats(&m)
				fmt.Fprintf(os.Stdout, "startup_first_frame_ms=%d heap_inuse_mb=%.1f sys_mb=%.1f max_rss_kb=%d\n",
					elapsed.Milliseconds(), float64(m.HeapInuse)/(1<<20), float64(m.Sys)/(1<<20), maxRSS())
				// Exit at once rather than a.Quit(): the measurement is out and there
				// is nothing to save, and Fyne 2.7's teardown can crash when a cursor
				// event arrives for the window it has just destroyed (seen under Xvfb).
				os.Exit(0)
			})
		}()
	})
}
