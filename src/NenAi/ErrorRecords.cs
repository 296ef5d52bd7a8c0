using System;
using System.Management.Automation;
using NenAi.Core.Errors;
using NenAi.Core.Rows;

namespace NenAi
{
    /// <summary>
    /// Builds ErrorRecords from core errors: stable id, matching category, the row as target, and a message that names
    /// the row it is about ("Row 3 (JobId 1003): ..."): <paramref name="label"/> when given (Start-NenRun knows each
    /// input's number), else the row behind the run the target is (Run, RunStatus); a run known by no row is named by
    /// its message id in the core's own message.
    /// </summary>
    internal static class ErrorRecords
    {
        public static ErrorRecord From(NenException ex, object? target, string? label = null)
        {
            label ??= RunInput.LabelOf(target);
            if (label != null) ex = ex.WithMessage(RowLabel.Prefix(label, ex.Message));
            var record = new ErrorRecord(ex, ex.ErrorId, Category(ex.Category), target);
            if (!string.IsNullOrEmpty(ex.ServerMessage) && !ex.Message.Contains(ex.ServerMessage!))
                record.ErrorDetails = new ErrorDetails(ex.Message + " " + ex.ServerMessage);
            return record;
        }

        /// <summary>Spelled out (not parsed by name) so the compiler proves every category exists in PowerShell 5.1's enum.</summary>
        public static ErrorCategory Category(NenErrorCategory category) => category switch
        {
            NenErrorCategory.InvalidArgument => ErrorCategory.InvalidArgument,
            NenErrorCategory.InvalidData => ErrorCategory.InvalidData,
            NenErrorCategory.InvalidOperation => ErrorCategory.InvalidOperation,
            NenErrorCategory.ObjectNotFound => ErrorCategory.ObjectNotFound,
            NenErrorCategory.PermissionDenied => ErrorCategory.PermissionDenied,
            NenErrorCategory.SecurityError => ErrorCategory.SecurityError,
            NenErrorCategory.AuthenticationError => ErrorCategory.AuthenticationError,
            NenErrorCategory.LimitsExceeded => ErrorCategory.LimitsExceeded,
            NenErrorCategory.QuotaExceeded => ErrorCategory.QuotaExceeded,
            NenErrorCategory.ResourceUnavailable => ErrorCategory.ResourceUnavailable,
            NenErrorCategory.ConnectionError => ErrorCategory.ConnectionError,
            NenErrorCategory.OperationTimeout => ErrorCategory.OperationTimeout,
            NenErrorCategory.ProtocolError => ErrorCategory.ProtocolError,
            NenErrorCategory.InvalidResult => ErrorCategory.InvalidResult,
            NenErrorCategory.WriteError => ErrorCategory.WriteError,
            NenErrorCategory.ResourceExists => ErrorCategory.ResourceExists,
            NenErrorCategory.OperationStopped => ErrorCategory.OperationStopped,
            _ => ErrorCategory.NotSpecified,
        };
    }
}
