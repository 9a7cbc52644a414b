package readmecheck

import (
	"os/exec"
	"strings"
	"testing"
)

// TestMakeHelp_ShowsValues runs make help, as the README's first steps do,
// and wants every variable a description names shown by its value.
func TestMakeHelp_ShowsValues(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("no make")
	}
	cmd := exec.Command("make", "--no-print-directory", "help")
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("make help: %v\n%s", err, out)
	}
	if strings.Contains(string(out), "$(") || !strings.Contains(string(out), "at 127.0.0.1:7777") {
		t.Errorf("make help shows a variable unexpanded (add it to HELP_VARS in the Makefile):\n%s", out)
	}
}
