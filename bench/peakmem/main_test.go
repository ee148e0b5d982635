package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
)

// childAllocMiB makes the test binary, run as peakmem's command, touch this much memory and
// exit with code 3, so the test can check both figures peakmem reports.
const childAllocMiB = 64

func TestMain(m *testing.M) {
	if os.Getenv("PEAKMEM_TEST_CHILD") != "" {
		block := make([]byte, childAllocMiB<<20)
		for i := range block {
			block[i] = byte(i)
		}
		os.Exit(int(block[len(block)-1]) - 252) // 255 - 252 = 3, and block stays live
	}
	os.Exit(m.Run())
}

func TestReportsPeakMemoryAndExitCode(t *testing.T) {
	t.Setenv("PEAKMEM_TEST_CHILD", "1")
	reportFile := filepath.Join(t.TempDir(), "report.txt")
	if code := run([]string{"-o", reportFile, "--", os.Args[0]}); code != 3 {
		t.Errorf("exit code %d, want the command's 3", code)
	}
	data, err := os.ReadFile(reportFile)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^wall_ms=(\d+) maxrss_kb=(\d+) exit=3\n$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("report %q does not match the documented form", data)
	}
	if kb, _ := strconv.Atoi(string(m[2])); kb < childAllocMiB*1024 {
		t.Errorf("maxrss_kb=%d, but the command touched %d MiB", kb, childAllocMiB)
	}
}

func TestRefusesMissingCommand(t *testing.T) {
	if code := run(nil); code != 2 {
		t.Errorf("no command: exit code %d, want 2", code)
	}
	if code := run([]string{"--", "/nonexistent/command"}); code != 127 {
		t.Errorf("unknown command: exit code %d, want 127", code)
	}
}
