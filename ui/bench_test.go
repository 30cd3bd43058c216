package ui

import (
	"runtime"
	"testing"

	"fyne.io/fyne/v2/test"
)

// BenchmarkStartToFirstFrame measures what the window does before the user sees
// it: load the theme and the translations, open the agent, build the start screen,
// load the certificates and warnings, and draw the first frame (with the
// software painter of the test driver). It reports the heap in use afterwards.
// The real program under Xvfb is measured by `inkan --bench-startup`.
func BenchmarkStartToFirstFrame(b *testing.B) {
	f := newFakeBackend().withTwoIdentities()
	var heap uint64
	for b.Loop() {
		a := test.NewApp()
		u := New(a, Options{
			ConfigPath: "bank.json",
			Open:       func(string, string) (Backend, error) { return f, nil },
		})
		u.wait()
		u.win.Canvas().Capture()
		b.StopTimer()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		heap = m.HeapInuse
		u.cancel()
		b.StartTimer()
	}
	b.ReportMetric(float64(heap)/(1<<20), "heap-MB")
}
