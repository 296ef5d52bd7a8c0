using System.Management.Automation;
using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using NenAi.Core.Configuration;

namespace NenAi
{
    /// <summary>
    /// The connection Connect-NenService keeps, one per PowerShell session: never process-wide, as one process may
    /// host several sessions (ForEach-Object -Parallel, thread jobs, a hosting application), and never in a PowerShell
    /// variable, where Get-Variable would list it and a script could replace it.
    /// </summary>
    /// <remarks>
    /// A session is a runspace, but a runspace is not always one session: ForEach-Object -Parallel (and any host with a
    /// pool) hands a used runspace to the next iteration after Runspace.ResetRunspaceState(), which gives it a new global
    /// variable table. So a connection is kept with the session's own $ExecutionContext variable object (Constant and
    /// AllScope: no script can remove or replace it, every scope and module of the session sees the same object, and a
    /// reset makes a new one): a reset runspace has a new one, and its connection is then forgotten and its secrets
    /// destroyed. The table holds a runspace weakly; its connection's secrets are also destroyed when it closes, and at
    /// Disconnect-NenService.
    /// </remarks>
    internal static class SessionConnections
    {
        private static readonly ConditionalWeakTable<Runspace, Slot> Slots = new ConditionalWeakTable<Runspace, Slot>();

        /// <summary>The connection of the session <paramref name="state"/> belongs to, if it has one.</summary>
        public static SessionConnection? Current(SessionState state)
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null || !Slots.TryGetValue(runspace, out Slot? slot)) return null;
            return slot.For(SessionMarker(state, runspace));
        }

        /// <summary>Makes <paramref name="connection"/> the session's, destroying the one it replaces.</summary>
        /// <returns>False when the command runs in no runspace (a host calling the cmdlet class directly).</returns>
        public static bool Set(SessionState state, SessionConnection connection)
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null) return false;
            Slots.GetValue(runspace, NewSlot).Replace(SessionMarker(state, runspace), connection);
            return true;
        }

        /// <summary>Forgets the session's connection and destroys its secrets; false when it had none.</summary>
        public static bool Forget(SessionState state)
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null || !Slots.TryGetValue(runspace, out Slot? slot)) return false;
            // A connection of a session before a reset is not this session's to report.
            bool had = slot.For(SessionMarker(state, runspace)) != null;
            slot.Forget();
            return had;
        }

        /// <summary>
        /// The object that stands for this session of the runspace: the global $ExecutionContext variable (a new object
        /// after every ResetRunspaceState); the runspace itself for a host without it.
        /// </summary>
        internal static object SessionMarker(SessionState state, Runspace runspace) =>
            (object?)state.PSVariable.Get("ExecutionContext") ?? runspace;

        private static Slot NewSlot(Runspace runspace)
        {
            var slot = new Slot();
            // A closed session's secrets go at once, not whenever the collector gets to the runspace.
            runspace.StateChanged += (_, e) =>
            {
                if (e.RunspaceStateInfo.State == RunspaceState.Closed || e.RunspaceStateInfo.State == RunspaceState.Broken) slot.Forget();
            };
            return slot;
        }

        private sealed class Slot
        {
            private SessionConnection? _connection;
            /// <summary>The session the connection was made in (see <see cref="SessionMarker"/>); held only while it is.</summary>
            private object? _marker;

            /// <summary>The connection when it was made in the session <paramref name="marker"/> stands for; an earlier session's is destroyed.</summary>
            public SessionConnection? For(object marker)
            {
                SessionConnection? stale;
                lock (this)
                {
                    if (_connection is null || ReferenceEquals(_marker, marker)) return _connection;
                    stale = _connection;
                    _connection = null;
                    _marker = null;
                }
                stale.Dispose();
                return null;
            }

            public void Replace(object marker, SessionConnection connection)
            {
                SessionConnection? old;
                lock (this)
                {
                    old = _connection;
                    _connection = connection;
                    _marker = marker;
                }
                old?.Dispose();
            }

            public void Forget()
            {
                SessionConnection? old;
                lock (this)
                {
                    old = _connection;
                    _connection = null;
                    _marker = null;
                }
                old?.Dispose();
            }
        }
    }
}
