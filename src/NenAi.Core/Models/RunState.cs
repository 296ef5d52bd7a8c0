using System;

namespace NenAi.Core.Models
{
    /// <summary>The client's reading of a run's status string (spec §11 "Status values").</summary>
    public enum RunState
    {
        Queued,
        Processing,
        Succeeded,
        Failed,
        TimedOut,
        Cancelled,
        /// <summary>A status this version does not know: treated as still running and surfaced as-is.</summary>
        Other,
    }

    public static class RunStates
    {
        public static RunState Parse(string? status)
        {
            switch ((status ?? string.Empty).Trim().ToLowerInvariant())
            {
                case "queued": return RunState.Queued;
                case "processing":
                case "running": return RunState.Processing;
                case "success":
                case "succeeded":
                case "completed": return RunState.Succeeded;
                case "failed": return RunState.Failed;
                case "timeout":
                case "timed_out": return RunState.TimedOut;
                case "cancelled":
                case "canceled": return RunState.Cancelled;
                default: return RunState.Other;
            }
        }

        public static bool IsTerminal(this RunState state) =>
            state == RunState.Succeeded || state == RunState.Failed || state == RunState.TimedOut || state == RunState.Cancelled;

        public static bool IsFailure(this RunState state) =>
            state == RunState.Failed || state == RunState.TimedOut || state == RunState.Cancelled;
    }
}
