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
            if (!Enum.TryParse(ex.Category.ToString(), out ErrorCategory category)) category = ErrorCategory.NotSpecified;
            var record = new ErrorRecord(ex, ex.ErrorId, category, target);
            if (!string.IsNullOrEmpty(ex.ServerMessage) && !ex.Message.Contains(ex.ServerMessage!))
                record.ErrorDetails = new ErrorDetails(ex.Message + " " + ex.ServerMessage);
            return record;
        }

        public static ErrorRecord Argument(string errorId, string message, object? target) =>
            new ErrorRecord(new ArgumentException(message), errorId, ErrorCategory.InvalidArgument, target);
    }
}
