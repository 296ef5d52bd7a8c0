using System;
using System.IO;
using System.Threading.Tasks;
using NenAi.Emulator;
using NenAi.TestSupport;
using Xunit;

namespace NenAi.PowerShell.Tests.Infrastructure
{
    /// <summary>
    /// Each test gets its own emulator on an ephemeral loopback port, its own runspace with the module imported
    /// (defaults aimed at that emulator) and its own folder, $TestDrive.
    /// </summary>
    public abstract class HostedTest : IAsyncLifetime
    {
        protected TestEmulator Emulator { get; private set; } = null!;
        protected PsSession Ps { get; private set; } = null!;
        protected string TestDrive { get; } = Path.Combine(Path.GetTempPath(), "nenai-hosted", Guid.NewGuid().ToString("N"));
        protected EmulatorState State => Emulator.State;

        /// <summary>Adjusts the emulator's configuration before it starts.</summary>
        protected virtual void Configure(EmulatorConfig config) { }

        /// <summary>False: the session gets no -BaseUri/-ApiKey/-SigningKey defaults.</summary>
        protected virtual bool SessionDefaults => true;

        public virtual async Task InitializeAsync()
        {
            Directory.CreateDirectory(TestDrive);
            Emulator = await TestEmulator.StartAsync(Configure);
            Ps = PsSession.For(Emulator, SessionDefaults);
            Ps.Set("TestDrive", TestDrive);
        }

        public virtual async Task DisposeAsync()
        {
            Ps.Dispose();
            await Emulator.DisposeAsync();
            try { Directory.Delete(TestDrive, recursive: true); }
            catch (IOException) { }
        }

        protected PsResult Run(string script, params (string Name, object? Value)[] variables) => Ps.Run(script, variables);
    }
}
