package cli

import (
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Release builds set these with
//
//	-ldflags "-X github.com/ddblake/ddblake/cmd/ddblake/cli.version=v1.2.3 -X github.com/ddblake/ddblake/cmd/ddblake/cli.commit=abc123"
//
// They are never written at run time.
var (
	version string
	commit  string
)

// BuildInfo says which build of ddblake runs.
type BuildInfo struct {
	// Version is the release version, or the module version, or "(devel)".
	Version string
	// Commit is the VCS revision, with "+dirty" when the tree was modified;
	// "unknown" when the build does not record it.
	Commit string
	// GoVersion is the Go toolchain that built the binary.
	GoVersion string
}

// Build returns the build's version, commit and Go version: the -ldflags
// values when set, else what the Go toolchain recorded in the binary.
func Build() BuildInfo {
	b := BuildInfo{Version: version, Commit: commit, GoVersion: runtime.Version()}
	if info, ok := debug.ReadBuildInfo(); ok {
		if b.Version == "" {
			b.Version = info.Main.Version
		}
		if info.GoVersion != "" {
			b.GoVersion = info.GoVersion
		}
		rev, dirty := "", false
		for _, s := range info.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if b.Commit == "" && rev != "" {
			b.Commit = rev
			if dirty {
				b.Commit += "+dirty"
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

func (s *session) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			b := Build()
			_, err := fmt.Fprintf(s.stdout, "ddblake %s (commit %s, %s)\n", b.Version, b.Commit, b.GoVersion)
			return err
		},
	}
}
