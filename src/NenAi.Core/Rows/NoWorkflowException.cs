using NenAi.Core.Errors;

namespace NenAi.Core.Rows
{
    /// <summary>
    /// No -WorkflowId and a row with no WorkflowId column at all. On the first row no row of such input can be sent,
    /// so Start-NenRun ends with this one error instead of refusing every row the same way (a blank WorkflowId cell,
    /// or a later row of mixed-shape input, stays that row's own error).
    /// </summary>
    public sealed class NoWorkflowException : NenException
    {
        public NoWorkflowException()
            : base(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument,
                "No workflow to run: -WorkflowId was not given and the input has no WorkflowId column (or property), so no row can be sent. "
                + "Give -WorkflowId, or add a WorkflowId column that routes each row.")
        {
        }

        private NoWorkflowException(string message, NoWorkflowException inner)
            : base(NenErrorIds.InvalidWorkflowId, NenErrorCategory.InvalidArgument, message, inner)
        {
        }

        protected override NenException Copy(string message) => new NoWorkflowException(message, this);
    }
}
