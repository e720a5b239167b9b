package decode

import (
	"path/filepath"
	"strings"
)

// Within reports whether the input's data lies in root, a local folder
// or an s3://bucket/prefix URI: a lake a replay writes, whose own files
// a walk of a folder holding it meets.
func Within(in Input, root string) bool {
	if rest, ok := strings.CutPrefix(root, "s3://"); ok {
		return strings.HasPrefix(in.Name, "s3://"+strings.TrimSuffix(rest, "/")+"/")
	}
	p, ok := localPath(in)
	if !ok {
		return false
	}
	r, err := filepath.Abs(root)
	if err != nil {
		return false
	}
	if real, err := filepath.EvalSymlinks(r); err == nil {
		r = real
	}
	r = strings.TrimSuffix(filepath.ToSlash(r), "/")
	return p == r || strings.HasPrefix(p, r+"/")
}

// Duplicate is an input left out by Unique because another input reads
// its data.
type Duplicate struct {
	// Input is the input left out.
	Input Input
	// Of names the input that reads its data.
	Of string
	// InExport is set when Of is an export directory holding Input,
	// rather than the same file, object, export or stream.
	InExport bool
}

// Unique returns the inputs with each file, object, export and stream
// kept once, at its first place, and the duplicates left out, in order.
//
// Inputs are compared by where their data lives, not by the name they
// were given: a local file by its absolute path with symbolic links
// resolved (./a.json, a.json, dir/../a.json and a link to it are one
// file), an S3 object or prefix by its bucket and key. A file inside an
// export directory that is itself an input is that export's, wherever
// it comes in the list: the export reads it with its manifest.
func Unique(inputs []Input) ([]Input, []Duplicate) {
	locs := make([]string, len(inputs))
	var exports []int // inputs that are exports, by index
	for i, in := range inputs {
		locs[i] = location(in)
		if in.Kind == InputExport {
			exports = append(exports, i)
		}
	}
	seen := make(map[string]string, len(inputs)) // location → name of the input kept
	var kept []Input
	var dups []Duplicate
	for i, in := range inputs {
		if exp, ok := holdingExport(locs[i], locs, exports, i); ok {
			dups = append(dups, Duplicate{Input: in, Of: inputs[exp].Name, InExport: true})
			continue
		}
		if of, ok := seen[locs[i]]; ok {
			dups = append(dups, Duplicate{Input: in, Of: of})
			continue
		}
		seen[locs[i]] = in.Name
		kept = append(kept, in)
	}
	return kept, dups
}

// holdingExport returns the first export input (by index) whose folder
// holds loc and is not loc itself.
func holdingExport(loc string, locs []string, exports []int, self int) (int, bool) {
	for _, e := range exports {
		if e != self && locs[e] != loc && strings.HasPrefix(loc, locs[e]+"/") {
			return e, true
		}
	}
	return 0, false
}

// location is where an input's data lives, the same string for every
// name of the same file or object. A stream is located by its name:
// "-" is standard input, however often it is given.
func location(in Input) string {
	if p, ok := localPath(in); ok {
		return "file:" + p
	}
	if _, local := in.Store.(LocalFS); local && in.Kind != InputStream {
		return "file:" + in.Name
	}
	return in.Name
}

// localPath is the absolute, slash-separated path of a local file or
// export folder, with symbolic links resolved (when they resolve);
// false for other inputs, and when no absolute path can be made.
func localPath(in Input) (string, bool) {
	l, ok := in.Store.(LocalFS)
	if !ok || in.Kind == InputStream {
		return "", false
	}
	p, err := filepath.Abs(l.osPath(in.Key))
	if err != nil {
		return "", false
	}
	if real, err := filepath.EvalSymlinks(p); err == nil {
		p = real
	}
	return filepath.ToSlash(p), true
}
