package main

import (
	"fmt"
	"os"
	"runtime"
)

// defaultCPUs is how many CPUs run the proxy's Go code at once when
// neither --cpus nor the GOMAXPROCS environment variable says. One, as
// twemproxy and mcrouter's default: a sidecar shares its machine with the
// application, and on one CPU the proxy spends least per request (the
// goroutines that hand a request on to each other run in turn on one
// thread instead of waking another). One CPU carries well over 100,000
// requests a second; raise it on a machine of its own.
const defaultCPUs = 1

// setCPUs applies --cpus (given says it was on the command line): n CPUs,
// or with 0 every CPU the machine or its cgroup allows. Without it, the
// GOMAXPROCS environment variable, else defaultCPUs. It returns the number
// in effect.
func setCPUs(given bool, n int) (int, error) {
	switch {
	case given && n < 0:
		return 0, fmt.Errorf("--cpus %d: want 0 (every CPU) or more", n)
	case given && n == 0:
		runtime.SetDefaultGOMAXPROCS()
	case given:
		runtime.GOMAXPROCS(n)
	case os.Getenv("GOMAXPROCS") == "":
		runtime.GOMAXPROCS(defaultCPUs)
	}
	return runtime.GOMAXPROCS(0), nil
}
