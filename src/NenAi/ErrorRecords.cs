using System;
using System.Management.Automation;
using NenAi.Core.Errors;

namespace NenAi
{
    /// <summary>Builds ErrorRecords from core errors: stable id, matching category, the row as target.</summary>
    internal static class ErrorRecords
    {
        public static ErrorRecord From(NenException ex, object? target)
        {
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
