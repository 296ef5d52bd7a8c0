using System;
using System.Collections.Generic;
using System.Collections.Specialized;
using System.Globalization;
using System.Linq;

namespace NenAi
{
    /// <summary>
    /// What one command did to its batch, for a script to act on without parsing text (type NenAi.BatchSummary):
    /// -SummaryVariable sets it in the caller's scope, and its one-line form goes to the Information stream.
    /// </summary>
    public sealed class BatchSummary
    {
        private readonly HashSet<string> _problems = new HashSet<string>(StringComparer.OrdinalIgnoreCase);

        internal BatchSummary(string command, DateTimeOffset startedAt)
        {
            Command = command;
            StartedAt = startedAt;
        }

        /// <summary>The command that ran: Start-NenRun, Wait-NenRun, Get-NenRun, Get-NenRunResult, Receive-NenWebhook.</summary>
        public string Command { get; }
        public DateTimeOffset StartedAt { get; }
        public TimeSpan Elapsed { get; internal set; }
        /// <summary>Counts per outcome, in the command's own order ($s.Outcomes.Accepted, $s.Outcomes['NotSent']).</summary>
        public OrderedDictionary Outcomes { get; } = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        /// <summary>
        /// How many error records were written, per error id ($s.Errors.NenRunFailed is a count), the one that ended the
        /// command included. The records themselves are in -ErrorVariable.
        /// </summary>
        public OrderedDictionary Errors { get; } = new OrderedDictionary(StringComparer.OrdinalIgnoreCase);
        /// <summary>All error records written: the sum of <see cref="Errors"/>.</summary>
        public int ErrorCount => Errors.Values.Cast<int>().Sum();
        /// <summary>The journal the command used (Start-NenRun -JournalPath, Get-NenRun -JournalPath); none without one.</summary>
        public string? JournalPath { get; internal set; }
        /// <summary>True when the command ended with an error of its own (not a row's): a refused key, an outage, a journal that failed.</summary>
        public bool Stopped { get; internal set; }
        /// <summary>True when anything failed, was not sent, is unknown, timed out or wrote an error: what a scheduled task's exit code says.</summary>
        public bool HasProblems => Stopped || ErrorCount > 0 || _problems.Any(name => Outcomes[name] is int n && n > 0);

        /// <summary>Adds an outcome count; a <paramref name="problem"/> outcome above zero makes <see cref="HasProblems"/> true.</summary>
        internal void Add(string outcome, int count, bool problem = false)
        {
            Outcomes[outcome] = count;
            if (problem) _problems.Add(outcome);
        }

        internal void CountError(string errorId) => Errors[errorId] = (Errors[errorId] is int n ? n : 0) + 1;

        /// <summary>One line for a log: "Start-NenRun: 500 row(s): 497 accepted, 3 failed; errors: NenInvalidWorkflowParams 3; 12.3 s".</summary>
        public override string ToString()
        {
            var parts = new List<string>();
            foreach (System.Collections.DictionaryEntry e in Outcomes) parts.Add($"{e.Value} {Words((string)e.Key)}");
            string errors = ErrorCount == 0 ? "no errors" : "errors: " + string.Join(", ", Errors.Cast<System.Collections.DictionaryEntry>().Select(e => $"{e.Key} {e.Value}"));
            return $"{Command}: {string.Join(", ", parts)}; {errors}; {Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
                + (!string.IsNullOrEmpty(JournalPath) ? $"; journal {JournalPath}" : string.Empty)
                + (Stopped ? "; stopped early" : string.Empty);
        }

        /// <summary>"AlreadyAccepted" as "already accepted".</summary>
        private static string Words(string name)
        {
            var sb = new System.Text.StringBuilder(name.Length + 4);
            for (int i = 0; i < name.Length; i++)
            {
                if (i > 0 && char.IsUpper(name[i])) sb.Append(' ');
                sb.Append(char.ToLowerInvariant(name[i]));
            }
            return sb.ToString();
        }
    }
}
