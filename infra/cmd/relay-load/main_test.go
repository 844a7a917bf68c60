package main

import "testing"

func TestParseFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"defaults", nil, false},
		{"one scenario", []string{"-scenario", "crash"}, false},
		{"whole matrix", []string{"-scenario", "all"}, false},
		{"unknown scenario", []string{"-scenario", "meteor"}, true},
		{"no cold runs", []string{"-coldstart", "-coldstart-runs", "0"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args)
			if (err != nil) != tt.wantErr {
				t.Errorf("parseFlags(%v): got error %v, want error %v", tt.args, err, tt.wantErr)
			}
		})
	}
}
