package line_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/carrierguard/carrierguard/line"
	"github.com/carrierguard/carrierguard/notify"
	"github.com/carrierguard/carrierguard/store/memory"
)

// A number given at sign-up is no line until proved; the carrier's provisioning proves
// the lines it sold.
func ExampleService_Check() {
	ctx := context.Background()
	crm := line.ProvisioningFunc(func(_ context.Context, subscriber, number string) (bool, error) {
		return subscriber == "sub-dana" && number == "+15550100001", nil
	})
	svc, _ := line.New(line.Config{}, line.Deps{Store: memory.NewLines(memory.Options{}), Provisioning: crm, Publisher: &notify.Recorder{}})

	_, err := svc.Check(ctx, "sub-stranger", "+15550100001") // registered the number under his own email
	fmt.Println(errors.Is(err, line.ErrUnproved))
	b, err := svc.Check(ctx, "sub-dana", "+15550100001")
	fmt.Println(b.Subscriber, b.Source, err)
	// Output:
	// true
	// sub-dana provisioning <nil>
}
