using System;

namespace NenAi.Core.Models
{
    /// <summary>The 202 answer of POST /runs (camelCase on the wire).</summary>
    public sealed class RunAccepted(string messageId, string workflowId, string? message, DateTimeOffset submittedAt, string rawJson)
    {
        public string MessageId { get; } = messageId;
        public string WorkflowId { get; } = workflowId;
        public string? Message { get; } = message;
        public DateTimeOffset SubmittedAt { get; } = submittedAt;
        /// <summary>The whole reply, for fields this version does not know.</summary>
        public string RawJson { get; } = rawJson;

        public override string ToString() => $"Run {MessageId} of workflow {WorkflowId}";
    }
}
