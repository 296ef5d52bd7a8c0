using System;
using NenAi.Core.Models;

namespace NenAi
{
    /// <summary>A run's status as Wait-NenRun writes it (type NenAi.RunStatus).</summary>
    public sealed class RunStatus
    {
        internal RunStatus(RunSnapshot status, bool timedOut, object? inputObject = null)
        {
            Core = status;
            TimedOut = timedOut;
            InputObject = inputObject;
        }

        internal RunSnapshot Core { get; }
        public string MessageId => Core.MessageId;
        /// <summary>
        /// The row that started the run, as Start-NenRun's output named it (its -KeyProperty value, or "row 3"), when
        /// the run came in with it (a NenAi.Run, a journal's run, a CSV of runs with a RowKey column).
        /// </summary>
        public string? RowKey => RunInput.RowKeyOf(InputObject);
        public string? WorkflowId => Core.WorkflowId;
        /// <summary>The server's status string (success, failed, processing, …).</summary>
        public string Status => Core.Status;
        public string State => Core.State.ToString();
        public bool IsTerminal => Core.IsTerminal;
        public bool Succeeded => Core.State == NenAi.Core.Models.RunState.Succeeded;
        /// <summary>True when Wait-NenRun gave up before the run finished.</summary>
        public bool TimedOut { get; }
        public string? Error => Core.Error;
        /// <summary>The workflow's inline result as JSON text (pipe to ConvertFrom-Json).</summary>
        public string? Result => Core.ResultJson;
        /// <summary>
        /// The result files with their presigned links, which are credentials: hidden (like Raw) from Export-Csv,
        /// Format-List * and Get-Member, so a CSV or a log of statuses never carries them; $status.Results still reads them.
        /// </summary>
        [System.Management.Automation.Hidden]
        public ResultLink[] Results
        {
            get
            {
                var files = new ResultLink[Core.Results.Count];
                for (int i = 0; i < files.Length; i++) files[i] = Core.Results[i];
                return files;
            }
        }
        public DateTimeOffset? ExpiresAt => Core.ExpiresAt;
        public DateTimeOffset RetrievedAt => Core.RetrievedAt;
        /// <summary>The whole JSON the server sent. Contains presigned URLs: a credential, hidden like Results.</summary>
        [System.Management.Automation.Hidden]
        public string Raw => Core.RawJson;
        /// <summary>What was piped in for this run (a NenAi.Run with its input row, a CSV row, a message id), if anything.</summary>
        public object? InputObject { get; }
        /// <summary>
        /// How many result files the run has (their links stay hidden in Results). Declared last, so an export keeps
        /// every earlier column where it was.
        /// </summary>
        public int Files => Core.Results.Count;

        public override string ToString() => $"{MessageId}: {Status}";
    }
}
