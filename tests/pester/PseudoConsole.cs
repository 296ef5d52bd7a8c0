using System;
using System.Collections.Generic;
using System.Diagnostics;
using System.IO;
using System.Text;
using System.Text.RegularExpressions;
using System.Threading;

namespace NenAi.PesterSupport
{
    /// <summary>
    /// An interactive pwsh in a real pseudo-terminal, typed into as a user would: util-linux `script` gives the shell a
    /// pty (500 columns, so no command line wraps), so Ctrl+C (the byte 0x03) is turned into SIGINT by the terminal, exactly as in a console window.
    /// This class plays the terminal's part that PSReadLine needs: it answers each cursor-position query (ESC[6n).
    /// </summary>
    public sealed class PseudoConsole : IDisposable
    {
        private const string CursorQuery = "\u001b[6n";
        private readonly Process _process;
        private readonly StringBuilder _screen = new StringBuilder();
        private readonly object _gate = new object();
        private readonly Thread _reader;
        private readonly Stream _input;
        /// <summary>Time since the terminal last showed something.</summary>
        private readonly Stopwatch _lastOutput = Stopwatch.StartNew();

        public PseudoConsole(string command, string workingDirectory, IDictionary<string, string> environment)
        {
            var start = new ProcessStartInfo("script")
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
                WorkingDirectory = workingDirectory,
            };
            foreach (string a in new[] { "-qfec", "stty cols 500 rows 50 && exec " + command, "/dev/null" }) start.ArgumentList.Add(a);
            foreach (var e in environment) start.Environment[e.Key] = e.Value;
            _process = Process.Start(start) ?? throw new InvalidOperationException("script did not start");
            _input = _process.StandardInput.BaseStream;
            _reader = new Thread(Read) { IsBackground = true, Name = "PseudoConsole" };
            _reader.Start();
        }

        /// <summary>Everything the terminal showed so far, escape sequences included.</summary>
        public string Screen { get { lock (_gate) return _screen.ToString(); } }

        public int Length { get { lock (_gate) return _screen.Length; } }

        public bool HasExited => _process.HasExited;

        /// <summary>Types <paramref name="keys"/> (\u0003 is Ctrl+C).</summary>
        public void Type(string keys)
        {
            byte[] bytes = Encoding.UTF8.GetBytes(keys);
            lock (_input) { _input.Write(bytes, 0, bytes.Length); _input.Flush(); }
        }

        /// <summary>
        /// Types a command line and presses Enter once the line shows, as a person does: PSReadLine takes keys that
        /// arrive together with Enter as a paste and would not run them.
        /// </summary>
        public void Enter(string command, TimeSpan timeout)
        {
            int from = Length;
            Type(command);
            string tail = command.Length > 12 ? command.Substring(command.Length - 12) : command;
            if (!WaitFor(tail, from, timeout, plain: true)) throw new TimeoutException($"'{command}' did not show in the console: {Plain(Screen)}");
            // PSReadLine asks where the cursor is while it renders, and reads the answer from the same input: an Enter
            // typed before the answer arrives is lost. A person presses Enter once the line has settled.
            WaitForQuiet(TimeSpan.FromMilliseconds(300), timeout);
            Type("\r");
        }

        /// <summary>Waits until the terminal has shown nothing new for <paramref name="quiet"/>.</summary>
        public void WaitForQuiet(TimeSpan quiet, TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                while (_lastOutput.Elapsed < quiet && clock.Elapsed < timeout)
                    Monitor.Wait(_gate, quiet - _lastOutput.Elapsed);
            }
        }

        /// <summary>The screen without escape sequences (colors, cursor moves).</summary>
        public static string Plain(string text) => Regex.Replace(text, "\u001b(\\[[0-9;?]*[ -/]*[@-~]|[=>])", string.Empty);

        /// <summary>
        /// Waits until <paramref name="text"/> shows at or after <paramref name="from"/> (with <paramref name="plain"/>,
        /// in the screen without its escape sequences); false at the timeout.
        /// </summary>
        public bool WaitFor(string text, int from, TimeSpan timeout, bool plain = false)
        {
            var clock = Stopwatch.StartNew();
            lock (_gate)
            {
                while (true)
                {
                    int start = Math.Min(from, _screen.Length);
                    string shown = _screen.ToString(start, _screen.Length - start);
                    if ((plain ? Plain(shown) : shown).IndexOf(text, StringComparison.Ordinal) >= 0) return true;
                    TimeSpan left = timeout - clock.Elapsed;
                    if (left <= TimeSpan.Zero || _process.HasExited) return false;
                    Monitor.Wait(_gate, left);
                }
            }
        }

        public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit((int)timeout.TotalMilliseconds);

        private void Read()
        {
            var decoder = Encoding.UTF8.GetDecoder();
            var bytes = new byte[4096];
            var chars = new char[4096];
            Stream output = _process.StandardOutput.BaseStream;
            string carry = string.Empty;
            int n;
            while ((n = output.Read(bytes, 0, bytes.Length)) > 0)
            {
                int count = decoder.GetChars(bytes, 0, n, chars, 0);
                string text = new string(chars, 0, count);
                // Answer cursor-position queries, also one split across two reads.
                string scan = carry + text;
                int queries = 0;
                for (int i = scan.IndexOf(CursorQuery, StringComparison.Ordinal); i >= 0; i = scan.IndexOf(CursorQuery, i + CursorQuery.Length, StringComparison.Ordinal)) queries++;
                // A query cut off at the end of this read is completed by the next; shorter than a query, the carry cannot count twice.
                carry = scan.Substring(scan.Length - Math.Min(CursorQuery.Length - 1, scan.Length));
                for (int q = 0; q < queries; q++) Type("\u001b[1;1R");
                lock (_gate)
                {
                    _screen.Append(text);
                    _lastOutput.Restart();
                    Monitor.PulseAll(_gate);
                }
            }
            lock (_gate) Monitor.PulseAll(_gate);
        }

        public void Dispose()
        {
            try { if (!_process.HasExited) _process.Kill(entireProcessTree: true); }
            catch (InvalidOperationException) { }
            _process.Dispose();
        }
    }
}
