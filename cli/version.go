package cli

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"text/tabwriter"
)

// kernelModule is the module path of kernel-actors, whose version a
// program built on it reports beside its own.
const kernelModule = "github.com/ocapgo/kernel-actors"

// errNoBuildInfo is returned by version for a binary built without
// module support, which records no build info.
var errNoBuildInfo = errors.New("this binary carries no build info (it was built without module support)")

// versionInfo is what version prints: the build info the Go toolchain
// recorded in the binary, no more.
type versionInfo struct {
	Program string `json:"program"`
	// Module and Version are the main module's: kernel-actors itself, or
	// the program built on it. "(devel)" is a build from a checkout.
	Module  string `json:"module"`
	Version string `json:"version"`
	// Kernel is the kernel-actors module's version ("(devel)" when it is
	// the main module), with "=> PATH" when a replace directive put
	// another tree in its place.
	Kernel string `json:"kernelActors,omitempty"`
	// Go is the toolchain; Platform is GOOS/GOARCH.
	Go       string `json:"go"`
	Platform string `json:"platform,omitempty"`
	// The VCS stamp, when the build ran in a checkout.
	Revision string `json:"revision,omitempty"`
	Time     string `json:"time,omitempty"`
	Modified bool   `json:"modified,omitempty"`
}

// versionOf reads bi into what version prints.
func versionOf(program string, bi *debug.BuildInfo) versionInfo {
	v := versionInfo{Program: program, Module: bi.Main.Path, Version: bi.Main.Version, Go: bi.GoVersion}
	if v.Module == kernelModule {
		v.Kernel = bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path != kernelModule {
			continue
		}
		v.Kernel = d.Version
		// A replace is shown because it means the kernel in the binary is not
		// the released one its version names.
		if d.Replace != nil {
			v.Kernel += " => " + d.Replace.Path
			// A directory has no version: the build info says "(devel)".
			if rv := d.Replace.Version; rv != "" && rv != "(devel)" {
				v.Kernel += " " + rv
			}
		}
	}
	var goos, goarch string
	for _, s := range bi.Settings {
		switch s.Key {
		case "GOOS":
			goos = s.Value
		case "GOARCH":
			goarch = s.Value
		case "vcs.revision":
			v.Revision = s.Value
		case "vcs.time":
			v.Time = s.Value
		// A modified tree is flagged: its revision alone does not say what
		// code was built.
		case "vcs.modified":
			v.Modified = s.Value == "true"
		}
	}
	if goos != "" && goarch != "" {
		v.Platform = goos + "/" + goarch
	}
	return v
}

// runVersion is the version command: the build info, read at run time,
// so a program built on cli reports its own module and kernel-actors'.
func runVersion(ctx context.Context, e *env, args []string) error {
	fs := newFlags(e, "version", "[--json]", `
Prints the version this binary was built from, as the Go toolchain
recorded it in the binary: the main module and its version, the version
of kernel-actors in it (for a program built on the cli package), the Go
toolchain and platform, and the VCS revision, its time and whether the
tree had local changes, when it was built in a checkout. A build from a
checkout (go build, go run) has the version "(devel)"; go install
MODULE@VERSION records the version.`)
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := parse(fs, args, 0, 0); err != nil {
		return err
	}
	// Read at run time, not stamped with -ldflags, so the version is right
	// for any build, a program built on this package included.
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return errNoBuildInfo
	}
	return printVersion(e, versionOf(e.name, bi), *asJSON)
}

// printVersion prints v: a line with the program's name and version,
// then what it was built from, one item a line.
func printVersion(e *env, v versionInfo, asJSON bool) error {
	if asJSON {
		return printJSON(e, v)
	}
	fmt.Fprintf(e.stdout, "%s %s\n", v.Program, v.Version)
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "module\t%s %s\n", v.Module, v.Version)
	if v.Module != kernelModule && v.Kernel != "" {
		fmt.Fprintf(tw, "kernel-actors\t%s\n", v.Kernel)
	}
	fmt.Fprintf(tw, "go\t%s\n", strings.TrimSpace(v.Go+" "+v.Platform))
	if v.Revision != "" {
		rev := v.Revision
		if v.Time != "" {
			rev += " " + v.Time
		}
		if v.Modified {
			rev += " (modified)"
		}
		fmt.Fprintf(tw, "revision\t%s\n", rev)
	}
	return tw.Flush()
}
