// Package notify tells subscribers about every change to their account, by email, SMS
// and push, and loses nothing on the way.
//
// It has two layers. The first is carrierguard's account-event vocabulary: the [Event]
// every package publishes when a subscriber's account changes, the typed constants for
// each kind of event, and the small [Publisher] interface they are published through.
// Core packages publish from inside the library, so an integrator cannot forget to tell
// the subscriber that their SIM was swapped or their password changed. In tests the
// Publisher is a [Recorder].
//
// The second layer delivers: [Service] is the production Publisher. It routes each event
// to the right recipients ([Routes]), renders it with [Templates], and stores one
// [Message] per recipient and channel in a durable [Outbox] before Publish returns. A
// [Dispatcher] then claims the messages, sends them through one [Sender] per channel,
// retries failures with backoff and gives up, loudly, after a limit. Senders that need
// network libraries live in subpackages (notify/smtpsender, notify/httpsender), so a
// package that imports notify for the vocabulary pulls in no SMTP or HTTP client.
//
// # Getting started
//
//	outbox := memory.NewNotify(memory.Options{})         // or your durable adapter
//	publisher, err := notify.New(notify.Config{}, myDirectory, outbox)
//	email, err := smtpsender.New(smtpsender.Config{Host: "smtp.example.net", From: "security@carrier.example",
//		Username: user, Password: pass})
//	sms, err := httpsender.New(httpsender.Config{URL: gatewayURL, SigningKey: key})
//	dispatcher, err := notify.NewDispatcher(notify.DispatcherConfig{
//		Senders:   map[notify.Channel]notify.Sender{notify.ChannelEmail: email, notify.ChannelSMS: sms},
//		Operators: myPager, // told about every message that could not be delivered
//	}, outbox)
//	go dispatcher.Run(ctx) // until ctx is cancelled
//
//	svc, err := protection.New(cfg, ..., publisher) // every package publishes through it
//
// # What an event may carry
//
// Events are delivered to people and kept in logs, so they never carry secrets: no
// codes, passwords, answers, seeds, PINs or tokens, and no CPNI. [Event.Validate] rejects
// attribute names that suggest a secret. Identifiers in attributes must already be masked
// (•••• 1234, a•••@example.com; see [MaskPhone] and [MaskEmail]): events never carry a
// plaintext address. As a second line of defence the templates mask any attribute word
// that still looks like an email address, a phone number or a long ID such as an ICCID.
//
// One-time passcodes are not delivered through this outbox. A code is a secret: it must
// not sit in plaintext in a store, and it is useless if delivered an hour late after
// retries. Package twofactor sends codes through its own sender, at once, and publishes
// only the fact that a code was sent.
//
// # Routing
//
// [Routes] decides who hears about an event, from the subscriber's [Profile], which the
// integrator's [Directory] supplies (the CRM, or the twofactor and status stores):
//
//   - Security events ([Type.Security]: SIM swap, port-out, protection flags, contact,
//     email and password changes, two-step verification off, lockouts, new-device
//     sign-ins, suspicious activity, ...) go to the account email, every verified trusted
//     contact and every push device. Preferences cannot mute them.
//   - Other events go to the same places unless the subscriber muted the type, and only
//     on the subscriber's preferred channels if any are set.
//   - The old-address rule: when the account email or a trusted contact changes
//     ([Type.ChangesAddress]), the address that was removed or replaced is told too, so
//     an attacker who swaps in their own address cannot hide the change from the owner.
//
// The old address is needed after the change is already stored (the publisher publishes
// once the change succeeded), and events never carry plaintext addresses. So the
// Directory, which stores addresses anyway, also returns addresses removed or replaced
// recently ([Profile.Former], each with the time it stopped being current), and the
// router tells those within [Config.FormerWindow] (default 7 days) of the event. The
// Directory must keep former addresses at least that long. Former addresses hear only
// about address changes, not every later security event: phone numbers are recycled,
// and a new owner of an old number should learn as little as possible.
//
// Each address is told once per event even if it is both the account email and a
// trusted contact. Unverified contacts must not be in the profile: they may belong to
// anyone. A security event with nowhere to go is not an error (refusing would block a
// legitimate change for a subscriber with no contacts); it is reported to
// [Config.Operators] as a [DeliveryFailed] event.
//
// # Templates
//
// [NewTemplates] loads embedded English templates for every event type ([DefaultTemplates]):
// an email subject, plain text and HTML (html/template, so attribute values are
// escaped), an SMS, and a push title and body. Each message says what happened, when,
// where the request came from (the event's Channel: app, web, chat, phone, store...), who
// made it (the subscriber, a support agent, or the system), and what to do if it was not
// the subscriber. No message carries a secret or CPNI, and identifiers are masked.
//
// Files are layout.tmpl (shared text blocks), layout.html.tmpl (the HTML email) and one
// <type>.tmpl per type, which defines "subject", "summary" (a sentence for email and
// push), "short" (a phrase for SMS) and optionally "advice". Pass a directory with files
// of the same names as [TemplatesConfig.Overrides] to replace any of them. NewTemplates
// renders every type on every channel with sample data ([SampleAttributes]), so a
// template that does not parse or render fails at construction, not at delivery.
//
// SMS text is folded to the GSM-7 alphabet (• becomes *, typographic quotes become plain
// ones). With the sample attributes, every default SMS fits one 160-septet segment, with
// the default brand and with a 24-character brand and a support number alike; the tests
// check every type with [GSM7Length]. Long attribute values can still push a message
// into two segments.
//
// With [TemplatesConfig.CancelURL] set, an approved SIM swap or port-out (an event with
// the [AttrCancel] token) links to that page with the token after "#", in the email and
// in the SMS, and says until when the change can be carried out: whoever gets the
// notice can stop the change before it happens. The token is kept unmasked (a masked
// token is a dead link) and only a URL-safe one becomes a link. The link makes that SMS
// two segments long, a price worth paying for the message that can stop a takeover.
//
// # The outbox and the dispatcher
//
// [Service.Publish] validates the event (an unknown type is [ErrUnknownType]), looks up
// the profile, routes, renders and stores every message in one [Outbox.Enqueue]; if any
// step fails, Publish fails and nothing is stored, so the operation that caused the
// event fails too rather than happening silently. Nothing is sent during Publish.
//
// Rendering at publish makes the outbox hold exactly what will be sent, but executing
// the templates (several text and HTML executions per event) is most of Publish's
// cost, paid on the caller's request path. With [Config.DeferRendering] Publish stores
// instead, in each message, the event data its content is rendered from
// ([Message.Render]: type, time, channel, actor kind and the attributes, masked before
// they are stored), and the Dispatcher renders when it sends, with
// [DispatcherConfig.Templates] (give both the same [Templates]). The messages, their IDs
// and the delivery guarantees are the same; the difference is that a custom template
// that fails on one particular event (every template renders sample data at
// construction) abandons that message at delivery, and tells the operators, instead of
// failing Publish. examples/server publishes this way.
//
// Each message's ID is its idempotency key, derived from the event ID, channel and
// address ([MessageID]): republishing the same event stores nothing new, and every
// attempt to send a message presents the same key to the Sender ([Delivery.IdempotencyKey];
// smtpsender puts it in the Message-ID, httpsender in an Idempotency-Key header).
//
// A [Dispatcher] claims a batch with a lease ([Outbox.Claim]), sends each message with a
// timeout, and records the outcome ([Outbox.Complete]): sent; retry later, after
// [ExponentialBackoff] with jitter from the injected Rand; or abandoned, when the Sender
// returns an error wrapping [ErrPermanent] (see [Permanent]) or after
// [DispatcherConfig.MaxAttempts]. An abandoned message is logged and published to
// [DispatcherConfig.Operators] as a [DeliveryFailed] event (an operator signal, never
// routed to subscribers), so someone can reach the subscriber another way. With the
// defaults (10 attempts, 10 s doubling to 30 min) a message is retried for roughly an
// hour before it is abandoned.
//
// The delivery guarantees, precisely:
//
//   - Nothing is lost: a message stays in the outbox until a Sender accepts it or it is
//     abandoned and operators are told.
//   - The outbox never hands a message to two dispatchers at once: claims are exclusive
//     (the conformance suite races many claimers), and NewDispatcher requires the lease
//     to outlast a whole batch of send timeouts, so a lease cannot expire while its
//     holder is still sending.
//   - Graceful shutdown (cancel Run's ctx) lets a send in progress finish and records
//     its outcome, and releases claimed messages it did not start, without counting an
//     attempt. Nothing is sent twice.
//   - A crash between a gateway accepting a message and the outbox recording it leaves
//     the message leased; when the lease expires another dispatcher sends it again with
//     the same idempotency key. A gateway that honours the key delivers it once; one that
//     does not may deliver it twice. Attempts are counted at claim time, so a message
//     that crashes its dispatcher is not retried forever: claimed more than MaxAttempts
//     times without an outcome, it is abandoned unsent and operators are told. A Sender
//     that panics is recovered from, and its message abandoned the same way.
//
// Outbox adapters implement four methods and prove themselves with
// storetest.TestNotifyOutbox; store/memory.Notify is the reference implementation.
//
// # Senders, and adding a channel
//
// A [Sender] delivers one [Delivery] and is configured per channel in
// [DispatcherConfig.Senders]. Provided: smtpsender (email over SMTP with STARTTLS or
// implicit TLS and AUTH), httpsender (any SMS or push gateway that takes one HTTP request
// per message, with an HMAC-SHA-256 signature; any 2xx is success, 4xx other than
// 408/425/429 is permanent, the rest is retried) and [LogSender] (development: logs the
// type, masked recipient and subject, never the body).
//
// To use another provider for an existing channel, implement Sender (a [SenderFunc] will
// do): return nil only when the provider accepted the message, wrap errors that retrying
// cannot fix with [Permanent], pass the idempotency key on, and keep addresses and
// message content out of error strings. The channels themselves (email, SMS, push) are a
// closed set because routing and templates must know every one: a new kind of channel
// means a new [Channel] constant, a template block in layout.tmpl and a place for its
// addresses in [Profile].
package notify
