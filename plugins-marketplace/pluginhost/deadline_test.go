package pluginhost

import (
	"testing"
	"time"
)

// startCall starts a call on d with timeout.
func startCall(d *deadlineTimer, timeout time.Duration) {
	now := time.Now()
	d.start(now, now.Add(timeout))
}

func TestDeadlineTimerHaltsOverrunningCall(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	startCall(d, 20*time.Millisecond)
	select {
	case <-halt.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("a call running past its 20 ms deadline was not halted within 5 s")
	}
	if !halt.expired.Load() {
		t.Error("halt fired without marking the deadline as its cause")
	}
	if d.finish() {
		t.Error("finish() = true for a halted call, want false so the VM retires")
	}
}

func TestDeadlineTimerSparesCallsThatEndInTime(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	// Each call runs for about 2 ms of a 200 ms timeout. So the timer
	// mostly fires while a later call runs, at the deadline of a call that
	// ended long ago, and it must halt none of them.
	stop := time.Now().Add(time.Second)
	calls := 0
	for time.Now().Before(stop) {
		startCall(d, 200*time.Millisecond)
		time.Sleep(2 * time.Millisecond)
		if !d.finish() {
			t.Fatalf("call %d, which ran for about 2 ms, was halted", calls)
		}
		calls++
	}
	time.Sleep(20 * time.Millisecond)
	if halt.fired.Load() {
		t.Fatalf("the VM was halted after %d calls that all ended in time", calls)
	}
}

func TestDeadlineTimerEarlierDeadlineAfterLaterOne(t *testing.T) {
	halt := newHaltSignal()
	d := newDeadlineTimer(halt)

	// The first call leaves the timer due in an hour; the second call's
	// deadline is 20 ms away and must still be kept.
	startCall(d, time.Hour)
	if !d.finish() {
		t.Fatal("first call was halted")
	}
	startCall(d, 20*time.Millisecond)
	select {
	case <-halt.ch:
	case <-time.After(5 * time.Second):
		t.Fatal("the second call ran 5 s past its 20 ms deadline; the timer kept the first call's deadline")
	}
}
