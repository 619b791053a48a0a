package config

import (
	"sort"
	"strconv"
	"strings"
)

// Problem is one thing wrong with a configuration.
type Problem struct {
	// File is the configuration file, "" for a configuration built in code.
	File string
	// Line is the 1-based line the problem is on, 0 when unknown.
	Line int
	// Pool names the pool the problem is in, "" when it is not in one.
	Pool string
	// Msg says what is wrong, lower-case.
	Msg string
}

// String formats the problem as `file:line: pool "name": msg`, leaving out
// the parts that are unknown.
func (p Problem) String() string {
	var b strings.Builder
	switch {
	case p.File != "":
		b.WriteString(p.File)
	default:
		b.WriteString("config")
	}
	if p.Line > 0 {
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(p.Line))
	}
	b.WriteString(": ")
	if p.Pool != "" {
		b.WriteString("pool ")
		b.WriteString(strconv.Quote(p.Pool))
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error lists every problem found in a configuration.
type Error struct {
	// Problems are sorted by line; problems without a line come last.
	Problems []Problem
}

// Error returns the problems one per line.
func (e *Error) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// newError returns nil when there are no problems, else an *Error holding
// them in line order.
func newError(problems []Problem) error {
	if len(problems) == 0 {
		return nil
	}
	sort.SliceStable(problems, func(i, j int) bool {
		a, b := problems[i].Line, problems[j].Line
		if a == 0 || b == 0 {
			return a != 0 && b == 0
		}
		return a < b
	})
	return &Error{Problems: problems}
}
