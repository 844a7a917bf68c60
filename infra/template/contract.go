package template

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// Contract maps each function (ingest, flush, token) to the environment
// variables docs/contracts.md defines for it, each marked required or not.
type Contract map[string]map[string]bool

var backquoted = regexp.MustCompile("`([A-Z0-9_]+)`")

// ParseContract reads the environment variable table of docs/contracts.md:
// rows "| function | `NAME`, `NAME` | default | meaning |". A default that
// starts with "required" marks the variables required, including "required
// when ...", because the template always sets those.
func ParseContract(markdown []byte) (Contract, error) {
	contract := Contract{}
	inSection := false
	scanner := bufio.NewScanner(bytes.NewReader(markdown))
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if strings.HasPrefix(line, "## ") {
			inSection = line == "## Environment variables"
			continue
		}
		if !inSection || !strings.HasPrefix(line, "|") {
			continue
		}

		cells := strings.Split(strings.Trim(line, "|"), "|")
		if len(cells) < 3 {
			continue
		}
		function := strings.TrimSpace(cells[0])
		names := backquoted.FindAllStringSubmatch(cells[1], -1)
		if len(names) == 0 {
			continue // the header and separator rows
		}
		required := strings.HasPrefix(strings.TrimSpace(cells[2]), "required")
		if contract[function] == nil {
			contract[function] = map[string]bool{}
		}
		for _, name := range names {
			contract[function][name[1]] = required
		}
	}
	if err := scanner.Err(); err != nil {
		return nil, fmt.Errorf("parse contract: %w", err)
	}
	if len(contract) == 0 {
		return nil, fmt.Errorf("parse contract: no rows under \"## Environment variables\"")
	}
	return contract, nil
}
