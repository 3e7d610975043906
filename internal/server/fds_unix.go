//go:build unix

package server

import "syscall"

// descriptorLimit is the process's soft limit on open files (which the Go
// runtime raises to the hard limit at start), capped at one million.
func descriptorLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur == 0 {
		return 1024
	}
	return int(min(rl.Cur, 1<<20))
}
