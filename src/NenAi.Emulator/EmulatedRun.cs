using System;
using System.Collections.Generic;
using System.Text.Json.Nodes;

namespace NenAi.Emulator
{
    /// <summary>One accepted run. Its status follows from the clock: queued → processing → success/failed.</summary>
    public sealed class EmulatedRun
    {
        public string MessageId { get; init; } = string.Empty;
        public string WorkflowId { get; init; } = string.Empty;
        public string ApiKeyName { get; init; } = string.Empty;
        public string? IdempotencyKey { get; init; }
        public DateTimeOffset AcceptedAt { get; init; }
        public DateTimeOffset StartsAt { get; init; }
        public DateTimeOffset EndsAt { get; init; }
        public bool Fails { get; init; }
        public string? Error { get; init; }
        /// <summary>workflow_params as received (never the secure ones).</summary>
        public JsonObject Params { get; init; } = new JsonObject();
        public List<string> SecureParamNames { get; init; } = new List<string>();
        public string? WebhookCallback { get; init; }
        public WorkflowConfig Workflow { get; init; } = new WorkflowConfig();

        public string StatusAt(DateTimeOffset now) =>
            now < StartsAt ? "queued" : now < EndsAt ? "processing" : Fails ? "failed" : "success";
    }
}
