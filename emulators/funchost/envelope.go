package funchost

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
)

// invocationRequest is the body of POST /<FunctionName>.
type invocationRequest struct {
	Data     map[string]json.RawMessage `json:"Data"`
	Metadata map[string]json.RawMessage `json:"Metadata"`
}

// invocationResult is the handler's 200 reply.
type invocationResult struct {
	Outputs     map[string]json.RawMessage `json:"Outputs"`
	Logs        []json.RawMessage          `json:"Logs"`
	ReturnValue json.RawMessage            `json:"ReturnValue"`
}

// sysMetadata is Metadata.sys (the WebJobs SystemBindingData).
type sysMetadata struct {
	MethodName string    `json:"MethodName"`
	UtcNow     time.Time `json:"UtcNow"`
	RandGuid   string    `json:"RandGuid"`
}

func newSysMetadata(function string) json.RawMessage {
	return mustJSON(sysMetadata{MethodName: function, UtcNow: time.Now().UTC(), RandGuid: uuid.NewString()})
}

// httpRequestData is Data.<req> for an httpTrigger that is not forwarded.
type httpRequestData struct {
	URL        string              `json:"Url"`
	Method     string              `json:"Method"`
	Query      map[string]string   `json:"Query"`
	Headers    map[string][]string `json:"Headers"`
	Params     map[string]string   `json:"Params"`
	Identities []json.RawMessage   `json:"Identities"`
	Body       *string             `json:"Body,omitempty"`
}

// httpResponseData is an http output binding value from Outputs (or
// ReturnValue); names are matched case-insensitively as Newtonsoft does.
type httpResponseData struct {
	StatusCode json.RawMessage   `json:"statusCode"`
	Status     json.RawMessage   `json:"status"`
	Body       json.RawMessage   `json:"body"`
	Headers    map[string]string `json:"headers"`
}

// dotnetException is a .NET exception as Newtonsoft serialises it, which
// is what RetryContext.Exception carries.
type dotnetException struct {
	ClassName              string           `json:"ClassName"`
	Message                string           `json:"Message"`
	Data                   json.RawMessage  `json:"Data"`
	InnerException         *dotnetException `json:"InnerException"`
	HelpURL                *string          `json:"HelpURL"`
	StackTraceString       *string          `json:"StackTraceString"`
	RemoteStackTraceString *string          `json:"RemoteStackTraceString"`
	RemoteStackIndex       int              `json:"RemoteStackIndex"`
	ExceptionMethod        *string          `json:"ExceptionMethod"`
	HResult                int              `json:"HResult"`
	Source                 string           `json:"Source"`
	WatsonBuckets          json.RawMessage  `json:"WatsonBuckets"`
}

const hresultException = -2146233088 // COR_E_EXCEPTION

// invocationException wraps the cause the way the host reports a failed
// function: FunctionInvocationException around the transport error.
func invocationException(function string, inner *dotnetException) *dotnetException {
	return &dotnetException{
		ClassName:      "Microsoft.Azure.WebJobs.Host.FunctionInvocationException",
		Message:        fmt.Sprintf("Exception while executing function: Functions.%s", function),
		Data:           json.RawMessage("{}"),
		InnerException: inner,
		HResult:        hresultException,
		Source:         "Microsoft.Azure.WebJobs.Host",
		WatsonBuckets:  json.RawMessage("null"),
	}
}

func innerException(class, source, msg string) *dotnetException {
	return &dotnetException{
		ClassName:     class,
		Message:       msg,
		Data:          json.RawMessage("null"),
		HResult:       hresultException,
		Source:        source,
		WatsonBuckets: json.RawMessage("null"),
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(fmt.Sprintf("funchost: marshal %T: %v", v, err)) // only fixed, marshalable types reach here
	}
	return b
}
