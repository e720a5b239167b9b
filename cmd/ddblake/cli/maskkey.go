package cli

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/ddblake/ddblake/pipeline"
	"github.com/ddblake/ddblake/pipeline/decode/s3objects"
)

// EnvMaskKey is the environment variable that holds the mask key itself.
const EnvMaskKey = "DDBLAKE_MASK_KEY"

// maxMaskKeyBytes bounds what is read of a mask key file or object.
const maxMaskKeyBytes = 64 << 10

// keyUse says what a command does with masks.
type keyUse int

const (
	// keyNeeded: the command writes masks; no key is an error.
	keyNeeded keyUse = iota
	// keyOptional: the command writes no value (infer): without a key,
	// one made for this run stands in, as no mask leaves the process.
	keyOptional
)

// loadMaskKey sets cfg's mask key from DDBLAKE_MASK_KEY or the file or S3
// object cfg's mask_key names (a relative file path is taken from the
// directory of the configuration file at configPath). Both given is an
// error; so are mask rules with no key when the command needs one. The
// errors are configuration errors (exit code 2) and never show the key.
func (s *session) loadMaskKey(ctx context.Context, cfg *pipeline.Config, configPath string, use keyUse) error {
	if cfg == nil {
		return nil
	}
	fail := func(format string, a ...any) error {
		return exit(ExitUsage, &configError{Path: configPath, Err: fmt.Errorf(format, a...)})
	}
	env := s.getenv(EnvMaskKey)
	var key []byte
	switch {
	case env != "" && cfg.MaskKeySource != "":
		return fail("mask key given twice, in %s and by mask_key: %s; keep one, so that every run masks with the same key", EnvMaskKey, cfg.MaskKeySource)
	case env != "":
		key = []byte(env)
	case cfg.MaskKeySource != "":
		scheme, loc, err := pipeline.ParseMaskKeySource(cfg.MaskKeySource)
		if err != nil {
			return fail("%w", err)
		}
		if key, err = s.readMaskKey(ctx, scheme, loc, configPath); err != nil {
			return fail("mask_key %s: %w", cfg.MaskKeySource, err)
		}
	case !cfg.Masks():
		return nil
	case use == keyOptional:
		key = make([]byte, 32)
		_, _ = rand.Read(key)
	default:
		return fail("%w: set %s (the key itself), or mask_key: file://PATH or s3://bucket/key in the configuration", ErrNoMaskKey, EnvMaskKey)
	}
	if err := cfg.SetMaskKey(key); err != nil {
		from := EnvMaskKey
		if env == "" {
			from = "mask_key " + cfg.MaskKeySource
		}
		return fail("%s: %w", from, err)
	}
	return nil
}

// readMaskKey reads the key at loc: a file path (relative to the
// configuration file's directory) or bucket/key of an S3 object.
func (s *session) readMaskKey(ctx context.Context, scheme, loc, configPath string) ([]byte, error) {
	var r io.ReadCloser
	switch scheme {
	case "s3":
		client, err := s.s3ClientFor(ctx)
		if err != nil {
			return nil, err
		}
		bucket, key, _ := strings.Cut(loc, "/")
		if r, err = s3objects.New(client, bucket).Open(ctx, key); err != nil {
			return nil, err
		}
	default:
		if !filepath.IsAbs(loc) && configPath != "" {
			loc = filepath.Join(filepath.Dir(configPath), loc)
		}
		f, err := os.Open(loc)
		if err != nil {
			return nil, err
		}
		r = f
	}
	defer r.Close()
	key, err := io.ReadAll(io.LimitReader(r, maxMaskKeyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(key) > maxMaskKeyBytes {
		return nil, fmt.Errorf("larger than %d bytes: not a key", maxMaskKeyBytes)
	}
	return key, nil
}
