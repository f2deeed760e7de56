//go:build unix

package ring

import (
	"syscall"
	"time"
)

// cpuTime is the process's user+sys CPU time: on a shared machine, CPU per
// element compares better across runs than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
