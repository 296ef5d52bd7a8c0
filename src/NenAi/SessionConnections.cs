using System.Management.Automation.Runspaces;
using System.Runtime.CompilerServices;
using NenAi.Core.Configuration;

namespace NenAi
{
    /// <summary>
    /// The connection Connect-NenService keeps, one per runspace (a PowerShell session): never process-wide, as one
    /// process may host several sessions (ForEach-Object -Parallel, thread jobs, a hosting application), and never in
    /// a PowerShell variable, where Get-Variable would list it and a script could replace it. The table holds a
    /// runspace weakly; its connection's secrets are destroyed when the runspace closes, or at Disconnect-NenService.
    /// </summary>
    internal static class SessionConnections
    {
        private static readonly ConditionalWeakTable<Runspace, Slot> Slots = new ConditionalWeakTable<Runspace, Slot>();

        /// <summary>The connection of the session the calling command runs in, if it has one.</summary>
        public static SessionConnection? Current
        {
            get
            {
                Runspace? runspace = Runspace.DefaultRunspace;
                if (runspace is null || !Slots.TryGetValue(runspace, out Slot? slot)) return null;
                lock (slot) return slot.Connection;
            }
        }

        /// <summary>Makes <paramref name="connection"/> the current session's, destroying the one it replaces.</summary>
        /// <returns>False when the command runs in no runspace (a host calling the cmdlet class directly).</returns>
        public static bool Set(SessionConnection connection)
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null) return false;
            Slot slot = Slots.GetValue(runspace, NewSlot);
            SessionConnection? old;
            lock (slot)
            {
                old = slot.Connection;
                slot.Connection = connection;
            }
            old?.Dispose();
            return true;
        }

        /// <summary>Forgets the current session's connection and destroys its secrets; false when it had none.</summary>
        public static bool Forget()
        {
            Runspace? runspace = Runspace.DefaultRunspace;
            if (runspace is null || !Slots.TryGetValue(runspace, out Slot? slot)) return false;
            return slot.Forget();
        }

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
            public SessionConnection? Connection;

            public bool Forget()
            {
                SessionConnection? old;
                lock (this)
                {
                    old = Connection;
                    Connection = null;
                }
                old?.Dispose();
                return old != null;
            }
        }
    }
}
