// Command lambdazip packs files into a Lambda deployment zip, the same
// bytes for the same inputs: entries at the top level in the order given,
// a fixed modification time, "bootstrap" executable (0755) and the rest
// 0644, deflated. It needs no zip tool.
//
//	go run ./scripts/lambdazip -o dist/lambda/ddblake-lambda.zip dist/lambda/bootstrap [dist/lambda/ddblake.yaml]
package main

import (
	"archive/zip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// modTime is the time stamped on every entry, so the zip does not change
// when its contents do not.
var modTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func main() {
	out := flag.String("o", "", "zip file to write")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: lambdazip -o OUT.zip FILE...")
		os.Exit(2)
	}
	if err := pack(*out, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "lambdazip:", err)
		os.Exit(1)
	}
}

// pack writes files into a new zip at out, replacing it only once
// complete.
func pack(out string, files []string) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(out), ".lambdazip-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	zw := zip.NewWriter(tmp)
	seen := map[string]bool{}
	for _, f := range files {
		name := filepath.Base(f)
		if seen[name] {
			return fmt.Errorf("%s: two files named %s", f, name)
		}
		seen[name] = true
		if err := add(zw, f, name); err != nil {
			return err
		}
	}
	if err := zw.Close(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), out)
}

func add(zw *zip.Writer, path, name string) error {
	src, err := os.Open(path)
	if err != nil {
		return err
	}
	defer src.Close()
	st, err := src.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New(path + ": not a regular file")
	}
	h := &zip.FileHeader{Name: name, Method: zip.Deflate, Modified: modTime}
	mode := os.FileMode(0o644)
	if name == "bootstrap" {
		mode = 0o755
	}
	h.SetMode(mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
