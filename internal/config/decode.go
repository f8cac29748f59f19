package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// decodeStrict decodes one YAML document from data into out, rejecting keys
// out has no field for. Every problem is reported, each naming the path of
// the key at fault (prefix + "server.listen"); withLines adds the line,
// which is meaningful only when data is the file the user wrote. An empty
// document decodes to nothing.
func decodeStrict(data []byte, out any, prefix string, withLines bool) []error {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return []error{syntaxError(prefix, err)}
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	err := dec.Decode(out)
	if errors.Is(err, io.EOF) {
		return nil
	}
	var errs []error
	if err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			return []error{syntaxError(prefix, err)}
		}
		idx := indexPaths(&root)
		for _, msg := range te.Errors {
			errs = append(errs, idx.explain(prefix, msg, withLines))
		}
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		errs = append(errs, fmt.Errorf("%smore than one YAML document; want one", orRoot(prefix)))
	}
	return errs
}

// syntaxError reports a YAML error that is not about a key's type: broken
// syntax, a duplicate key, an alias bomb.
func syntaxError(prefix string, err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	return fmt.Errorf("%s%s", orRoot(prefix), msg)
}

// orRoot turns a path prefix ("targets[0].settings.") into the head of a
// message about the whole document.
func orRoot(prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.TrimSuffix(prefix, ".") + ": "
}

// pathIndex maps positions in a YAML document to the dotted paths of the
// keys there, to turn the decoder's line-numbered messages into paths.
type pathIndex struct {
	keys  map[lineKey]string // a mapping key at a line → its path
	lines map[int]string     // a line → the path of the first value on it
}

type lineKey struct {
	line int
	key  string
}

func indexPaths(root *yaml.Node) *pathIndex {
	idx := &pathIndex{keys: map[lineKey]string{}, lines: map[int]string{}}
	idx.walk(root, "")
	return idx
}

func (idx *pathIndex) walk(n *yaml.Node, path string) {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			idx.walk(c, path)
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			p := k.Value
			if path != "" {
				p = path + "." + k.Value
			}
			idx.keys[lineKey{k.Line, k.Value}] = p
			idx.note(k.Line, p)
			idx.walk(v, p)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			p := path + "[" + strconv.Itoa(i) + "]"
			idx.note(c.Line, p)
			idx.walk(c, p)
		}
	case yaml.ScalarNode:
		idx.note(n.Line, path)
	}
}

func (idx *pathIndex) note(line int, path string) {
	if _, ok := idx.lines[line]; !ok {
		idx.lines[line] = path
	}
}

var (
	lineRE    = regexp.MustCompile(`^line (\d+): (.*)$`)
	unknownRE = regexp.MustCompile(`^field (.*) not found in type \S+$`)
	typeRE    = regexp.MustCompile("^cannot unmarshal !!(\\w+)(?: `(.*)`)? into (\\S+)$")
)

// explain rewrites one decoder message ("line 3: field lisen not found in
// type config.Server") as "server.lisen: unknown key (line 3)".
func (idx *pathIndex) explain(prefix, msg string, withLines bool) error {
	m := lineRE.FindStringSubmatch(msg)
	if m == nil {
		return fmt.Errorf("%s%s", orRoot(prefix), msg)
	}
	line, _ := strconv.Atoi(m[1])
	text := m[2]
	path := idx.lines[line]
	if u := unknownRE.FindStringSubmatch(text); u != nil {
		if p, ok := idx.keys[lineKey{line, u[1]}]; ok {
			path = p
		}
		text = "unknown key"
	} else if ty := typeRE.FindStringSubmatch(text); ty != nil {
		switch {
		case ty[2] != "":
			text = fmt.Sprintf("want %s, got %q", typeName(ty[3]), ty[2])
		case ty[1] == "seq":
			text = fmt.Sprintf("want %s, got a list", typeName(ty[3]))
		case ty[1] == "map":
			text = fmt.Sprintf("want %s, got a mapping", typeName(ty[3]))
		}
	}
	where := ""
	if withLines {
		where = fmt.Sprintf(" (line %d)", line)
	}
	if path == "" {
		return fmt.Errorf("%s%s%s", orRoot(prefix), text, where)
	}
	return &keyError{path: prefix + path, msg: text + where}
}

// keyError is a decoding problem of one key, by path.
type keyError struct {
	path, msg string
}

func (e *keyError) Error() string { return e.path + ": " + e.msg }

// typeName names a Go type the way a config author thinks of it.
func typeName(goType string) string {
	switch goType {
	case "time.Duration":
		return `a duration (e.g. "15s", "1m30s")`
	case "int", "int64", "int32":
		return "an integer"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.Contains(goType, "."):
		return "a mapping"
	}
	return goType
}
