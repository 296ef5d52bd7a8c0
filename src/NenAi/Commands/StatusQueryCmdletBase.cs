using System.Management.Automation;

namespace NenAi.Commands
{
    /// <summary>
    /// A cmdlet that asks for runs' status (GET /runs/{id}) many at once: Get-NenRun, Wait-NenRun, Receive-NenWebhook.
    /// The one -ThrottleLimit of status queries and its one default.
    /// </summary>
    public abstract class StatusQueryCmdletBase : RunsInputCmdletBase
    {
        /// <summary>
        /// Status queries in flight at once. 16 by default, twice Start-NenRun's 8: a query is a cheap read, while a
        /// submission starts work at the service (its help says so).
        /// </summary>
        [Parameter]
        [ValidateRange(1, 64)]
        public virtual int ThrottleLimit { get; set; } = 16;
    }
}
