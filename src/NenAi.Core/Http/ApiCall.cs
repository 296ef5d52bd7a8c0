using System;
using System.Net.Http;
using NenAi.Core.Logging;

namespace NenAi.Core.Http
{
    /// <summary>
    /// One API request as the client's request loop sends it, as often as it may: what to send, how to name it in
    /// messages, and which secrets the server must not be quoted back with.
    /// </summary>
    internal sealed class ApiCall
    {
        private ApiCall(HttpMethod method, Uri uri, string operation, SecretScrubber scrubber)
        {
            (Method, Uri, Operation, Scrubber) = (method, uri, operation, scrubber);
        }

        /// <summary>
        /// A POST was answered with a status the contract does not define: counted once in the circuit's streak, sent again
        /// at most once (as the streak's probe), and then the row's own answer.
        /// </summary>
        public bool AnsweredForeign { get; set; }

        /// <summary>A read (GET): safe to send again after any transient failure.</summary>
        public static ApiCall Read(Uri uri, string operation, SecretScrubber scrubber) => new ApiCall(HttpMethod.Get, uri, operation, scrubber);

        /// <summary>POST /runs with its body, serialised once, and the row's Idempotency-Key.</summary>
        public static ApiCall StartRun(Uri uri, ZeroingBufferWriter body, string idempotencyKey, SecretScrubber scrubber, string? label = null) =>
            new ApiCall(HttpMethod.Post, uri, "Starting the run", scrubber) { Body = body, IdempotencyKey = idempotencyKey, Label = label };

        public HttpMethod Method { get; }
        public Uri Uri { get; }
        /// <summary>"Starting the run", "Getting run …": the start of every message about this call.</summary>
        public string Operation { get; }
        public SecretScrubber Scrubber { get; }
        public ZeroingBufferWriter? Body { get; private set; }
        public string? IdempotencyKey { get; private set; }
        /// <summary>The row the call is for ("row 3 (JobId 1003)"), named in its -Verbose and -Debug lines.</summary>
        public string? Label { get; private set; }

        /// <summary>
        /// A read may be sent again after any transient failure. A POST /runs only when the server provably did not
        /// accept it (spec §11): after an ambiguous failure its outcome is unknown, and it is not resent.
        /// </summary>
        public bool Resendable => Body is null;
    }
}
