package transport_test

import (
	"fmt"

	"github.com/cfst/cfst/internal/transport"
)

func ExampleParseConnectTo() {
	rule, err := transport.ParseConnectTo("app.example.com:443:[::1]:8443")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(rule.FromHost, rule.FromPort, rule.ToHost, rule.ToPort)
	fmt.Println(rule)
	// Output:
	// app.example.com 443 ::1 8443
	// app.example.com:443:[::1]:8443
}

func ExampleRoute() {
	rules, _ := transport.ParseConnectToList("::127.0.0.1:8443")
	fmt.Println(transport.Route(rules, "app.example.com:443"))
	_, err := transport.ParseConnectToList("app.example.com:443:127.0.0.1")
	fmt.Println(err)
	// Output:
	// 127.0.0.1:8443
	// connect-to "app.example.com:443:127.0.0.1": want HOST1:PORT1:HOST2:PORT2
}
