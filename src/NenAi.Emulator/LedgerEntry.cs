using System;
using System.Text.Json.Nodes;

namespace NenAi.Emulator
{
    /// <summary>The emulator's own record of an accepted run, for tests to count against.</summary>
    public sealed class LedgerEntry
    {
        public string MessageId { get; init; } = string.Empty;
        public string WorkflowId { get; init; } = string.Empty;
        public string? IdempotencyKey { get; init; }
        public DateTimeOffset AcceptedAt { get; init; }
        public DateTimeOffset EndsAt { get; init; }
        public JsonObject Params { get; init; } = new JsonObject();
    }

    /// <summary>One webhook delivery attempt, or (Attempt 0, Failure "dropped") an update that was never sent.</summary>
    public sealed class WebhookDelivery
    {
        public string MessageId { get; init; } = string.Empty;
        public string Status { get; init; } = string.Empty;
        public int Attempt { get; init; }
        /// <summary>Which copy of a duplicated update (1 when not duplicated).</summary>
        public int Copy { get; init; } = 1;
        public int? HttpStatus { get; init; }
        public string? Failure { get; init; }
        public DateTimeOffset At { get; init; }
    }
}

namespace NenAi.Emulator
{
    /// <summary>One presigned download as the emulator received it (never the query string).</summary>
    public sealed class DownloadRequest
    {
        public string MessageId { get; init; } = string.Empty;
        public int Index { get; init; }
        public string Range { get; init; } = string.Empty;
        public string IfRange { get; init; } = string.Empty;
        /// <summary>Downloads must carry no Nen credentials.</summary>
        public bool HasApiKey { get; init; }
    }
}
