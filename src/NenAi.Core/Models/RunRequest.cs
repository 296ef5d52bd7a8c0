using System;
using System.Collections.Generic;
using NenAi.Core.Configuration;

namespace NenAi.Core.Models
{
    /// <summary>One run to start: what POST /runs needs, plus the caller's own tag (e.g. the CSV row).</summary>
    public sealed class RunRequest
    {
        public RunRequest(string workflowId)
        {
            WorkflowId = workflowId;
        }

        public string WorkflowId { get; }
        /// <summary>workflow_params, in the caller's order. Values: string, number, bool, date, nested dictionaries and lists.</summary>
        public IList<KeyValuePair<string, object?>> Parameters { get; } = new List<KeyValuePair<string, object?>>();
        /// <summary>secure_workflow_params; sent only in signed requests.</summary>
        public IList<KeyValuePair<string, SecretValue>> SecureParameters { get; } = new List<KeyValuePair<string, SecretValue>>();
        public Uri? WebhookCallback { get; set; }
        /// <summary>Sent as Idempotency-Key; a fresh GUID when not set.</summary>
        public string IdempotencyKey { get; set; } = Guid.NewGuid().ToString("N");
        /// <summary>The journal/row key this request came from, if any.</summary>
        public string? RowKey { get; set; }
        /// <summary>
        /// What the journal keeps of the values this row is sent with (<see cref="Rows.RowFingerprint"/>), so a re-run can
        /// tell the row changed since; null for a row without a journal key.
        /// </summary>
        public string? ValuesFingerprint { get; set; }
        /// <summary>The row's number in the caller's input (1-based); 0 when it came from no row.</summary>
        public int Row { get; set; }
        /// <summary>How messages name the row this request came from ("row 3 (JobId 1003)"); null when it came from no row.</summary>
        public string? Label { get; set; }
        /// <summary>Opaque caller state carried to the outcome (the cmdlets keep the input row here).</summary>
        public object? Tag { get; set; }
    }
}
