package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/scim-gateway/scim-gateway/internal/config"
)

const usage = `Usage:
  gateway serve --config FILE [--listen ADDR]    serve the targets of a configuration
  gateway validate --config FILE                 check a configuration, then exit
  gateway demo [--listen ADDR] [--token TOKEN]   serve one in-memory target on loopback
  gateway version                                print the version
  gateway help                                   print this help
`

// usageError is a command line that cannot be run; main exits with 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg + " (run 'gateway help')" }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// run runs the command line args (without the program name). getenv reads
// the environment (secrets referenced by the configuration); stdout gets the
// command's output and, while serving, the logs. ctx ends a server
// gracefully.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usagef("no command given")
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServe(ctx, args, getenv, stdout)
	case "validate":
		return runValidate(args, getenv, stdout)
	case "demo":
		return runDemo(ctx, args, stdout)
	case "version":
		if err := parseFlags(flag.NewFlagSet("version", flag.ContinueOnError), args, stdout); err != nil {
			return err
		}
		fmt.Fprintln(stdout, versionString())
		return nil
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	return usagef("unknown command %q", cmd)
}

// errHelpShown ends a command after it printed its own help.
var errHelpShown = errors.New("help shown")

// parseFlags parses the flags of one command, which takes no positional
// arguments. -h prints the command's flags to stdout.
func parseFlags(fs *flag.FlagSet, args []string, stdout io.Writer) error {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprintf(stdout, "Usage of gateway %s:\n", fs.Name())
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return errHelpShown
	case err != nil:
		return usagef("%s: %v", fs.Name(), err)
	case fs.NArg() > 0:
		return usagef("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func runValidate(args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	path := fs.String("config", "", "the configuration `FILE` (YAML)")
	if err := parseFlags(fs, args, stdout); err != nil {
		return helpIsNoError(err)
	}
	if *path == "" {
		return usagef("validate: --config FILE is required")
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return err
	}
	names := make([]string, len(cfg.Targets))
	for i, t := range cfg.Targets {
		names[i] = t.Name + " (" + t.Adapter + ")"
	}
	fmt.Fprintf(stdout, "%s: valid; targets: %s; %d static token(s), %d JWT issuer(s)\n",
		*path, strings.Join(names, ", "), len(cfg.Auth.Tokens), len(cfg.Auth.Issuers))
	return nil
}

func runServe(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	path := fs.String("config", "", "the configuration `FILE` (YAML)")
	listen := fs.String("listen", "", "listen on `ADDR` (host:port) instead of server.listen")
	if err := parseFlags(fs, args, stdout); err != nil {
		return helpIsNoError(err)
	}
	if *path == "" {
		return usagef("serve: --config FILE is required")
	}
	src := &configSource{path: *path, getenv: getenv, listen: *listen}
	cfg, _, err := src.load()
	if err != nil {
		return err
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	src.hup = hup
	return serveReloading(ctx, cfg, src, stdout, nil)
}

func helpIsNoError(err error) error {
	if errors.Is(err, errHelpShown) {
		return nil
	}
	return err
}
