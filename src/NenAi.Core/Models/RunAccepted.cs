using System;

namespace NenAi.Core.Models
{
    /// <summary>The 202 answer of POST /runs (camelCase on the wire).</summary>
    public sealed class RunAccepted
    {
        public RunAccepted(string messageId, string workflowId, string? message, DateTimeOffset submittedAt, string rawJson)
        {
            MessageId = messageId;
            WorkflowId = workflowId;
            Message = message;
            SubmittedAt = submittedAt;
            RawJson = rawJson;
        }

        public string MessageId { get; }
        public string WorkflowId { get; }
        public string? Message { get; }
        public DateTimeOffset SubmittedAt { get; }
        /// <summary>The whole reply, for fields this version does not know.</summary>
        public string RawJson { get; }

        public override string ToString() => $"Run {MessageId} of workflow {WorkflowId}";
    }
}
