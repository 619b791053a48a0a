package main

import (
	"github.com/spf13/pflag"

	"hashproxy/internal/config"
)

// overrideFlags are the flags that take precedence over a configuration
// file, shared by serve and check so that check judges the configuration
// serve would run.
type overrideFlags struct {
	flags       *pflag.FlagSet
	adminListen string
	logLevel    string
	logFormat   string
}

// register adds the flags to fs.
func (o *overrideFlags) register(fs *pflag.FlagSet) {
	o.flags = fs
	fs.StringVar(&o.adminListen, "admin-listen", config.DefaultAdminListen, "admin HTTP address for /metrics, /healthz, /readyz (\"\" turns it off); overrides the file")
	fs.StringVar(&o.logLevel, "log-level", "info", "log level: debug, info, warn, error; overrides the file")
	fs.StringVar(&o.logFormat, "log-format", "console", "log format: console or json; overrides the file")
}

// apply sets, in cfg, the flags that were given. It runs before the
// configuration is validated, so a flag can settle what the file alone
// gets wrong (an admin port a pool of a nutcracker.yml takes).
func (o *overrideFlags) apply(cfg *config.Config) {
	if o.flags.Changed("admin-listen") {
		cfg.Admin.Listen = o.adminListen
	}
	if o.flags.Changed("log-level") {
		cfg.Log.Level = o.logLevel
	}
	if o.flags.Changed("log-format") {
		cfg.Log.Format = o.logFormat
	}
}
