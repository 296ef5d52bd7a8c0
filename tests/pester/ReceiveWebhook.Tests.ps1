#Requires -Version 7.4
# Pester 5: Receive-NenWebhook in real pwsh against the emulator process, whose webhooks are duplicated and
# dropped through its admin API; Ctrl+C is a real SIGINT to a child pwsh.

BeforeAll {
    $script:root = Resolve-Path (Join-Path $PSScriptRoot '../..')
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:manifest = Join-Path $script:root 'NenAi.psd1'
    Import-Module $script:manifest -Force

    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:slow = '44444444-4444-4444-4444-444444444444'
    $script:secretText = 'canary-webhook-33ef08'   # the webhook secret of emulator.pester.json
    $script:secret = ConvertTo-SecretText $script:secretText
    $env:NEN_BASE_URL = $script:baseUri
    $env:NEN_API_KEY = 'pester-api-key'
    $env:NEN_SIGNING_KEY = 'pester-signing-key'
    Remove-Item Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue

    function script:New-Prefix {
        $probe = [System.Net.Sockets.TcpListener]::new([System.Net.IPAddress]::Loopback, 0)
        $probe.Start()
        $port = $probe.LocalEndpoint.Port
        $probe.Stop()
        "http://127.0.0.1:$port/nen/"
    }

    # True when a fresh HttpListener can take the prefix right now.
    function script:Test-PrefixFree {
        param([string] $Prefix)
        $listener = [System.Net.HttpListener]::new()
        $listener.Prefixes.Add($Prefix)
        try { $listener.Start(); $true } catch { $false } finally { $listener.Close() }
    }

    function script:Set-WebhookFaults {
        param([hashtable] $Settings)
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/webhooks" -ContentType 'application/json' -Body ($Settings | ConvertTo-Json) | Out-Null
    }
}

AfterAll {
    Stop-EmulatorProcess $script:emulator
    Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY -ErrorAction SilentlyContinue
    Remove-Module NenAi -ErrorAction SilentlyContinue
}

Describe 'Receive-NenWebhook' {
    It 'writes 200 final statuses, each once, through duplicated and dropped webhooks, and Get-NenRunResult saves every file' {
        Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/reset" | Out-Null
        Set-WebhookFaults @{ duplicateRate = 0.2; dropRate = 0.1; seed = 19; maxAttempts = 4; backoffMilliseconds = 200; timeoutSeconds = 5 }
        $prefix = New-Prefix
        $out = Join-Path $TestDrive 'results'
        $verbose = Join-Path $TestDrive 'verbose.txt'
        $rows = 1..200 | ForEach-Object { [pscustomobject]@{ NAME = "row $_" } }

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $files = $rows |
            Start-NenRun -WorkflowId $script:echo -WebhookCallback $prefix -ThrottleLimit 16 |
            Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -FallbackAfterSec 5 -PollIntervalSec 0.5 -TimeoutSec 300 -OutVariable statuses -Verbose 4> $verbose |
            Get-NenRunResult -Destination $out
        $elapsed = $clock.Elapsed
        $portFree = Test-PrefixFree $prefix

        $ledger = Get-EmulatorLedger -BaseUri $script:baseUri
        $ids = @($ledger.runs.messageId)
        $ids | Should -HaveCount 200
        $statuses | Should -HaveCount 200
        ($statuses.MessageId | Sort-Object -Unique) | Should -HaveCount 200
        (Compare-Object ($statuses.MessageId | Sort-Object) ($ids | Sort-Object)) | Should -BeNullOrEmpty
        $statuses | ForEach-Object { $_.IsTerminal | Should -BeTrue }
        $files | Should -HaveCount 400   # assets.zip and report.txt per run
        foreach ($id in $ids) {
            Join-Path $out $id 'report.txt' | Should -Exist
            Join-Path $out $id 'assets.zip' | Should -Exist
        }
        $portFree | Should -BeTrue

        # The faults happened; every run whose final webhook was dropped was looked up and still came out.
        $hooks = @($ledger.webhooks)
        $dropped = @($hooks | Where-Object failure -EQ 'dropped')
        $lostFinal = @($dropped | Where-Object status -NE 'processing' | ForEach-Object messageId)
        $duplicated = @($hooks | Where-Object { $_.copy -eq 2 } | ForEach-Object { "$($_.messageId)/$($_.status)" } | Sort-Object -Unique)
        $lostFinal.Count | Should -BeGreaterThan 0
        $duplicated.Count | Should -BeGreaterThan 20
        foreach ($id in $lostFinal) { $ledger.getsByRun.$id | Should -BeGreaterOrEqual 1 }
        $summary = Get-Content $verbose | Where-Object { $_ -match '^Receive-NenWebhook: ' } | Select-Object -Last 1
        $summary | Should -Match '(\d+) run\(s\) completed by polling'
        [int]($summary -replace '.* (\d+) run\(s\) completed by polling.*', '$1') | Should -BeGreaterOrEqual $lostFinal.Count
        $duplicatesDropped = [int]($summary -replace '.*\((\d+) duplicate\(s\).*', '$1')
        $byPolling = [int]($summary -replace '.* (\d+) run\(s\) completed by polling.*', '$1')
        $deliveries = @($hooks | Where-Object attempt -GT 0)
        Write-Host ("200 runs in {0:0.0} s (start, receive, download): {1} webhook deliveries ({2} answered 200), {3} updates duplicated, {4} updates dropped ({5} final); receiver: {6} duplicates dropped, {7} runs completed by polling; {8} status queries" -f
            $elapsed.TotalSeconds, $deliveries.Count, @($deliveries | Where-Object httpStatus -EQ 200).Count, $duplicated.Count, $dropped.Count, $lostFinal.Count,
            $duplicatesDropped, $byPolling, $ledger.requests.getRuns)
        Write-Host $summary
        Set-WebhookFaults @{}
    }

    It 'answers a forged post 401, a 10 MB body 413 and writes neither, and a stalled client delays no delivery' {
        $prefix = New-Prefix
        $port = ([uri]$prefix).Port
        $traffic = Start-ThreadJob -ArgumentList $prefix, $port, $script:secretText -ScriptBlock {
            param($Prefix, $Port, $SecretText)
            function Send([string] $Body, [string] $Signature) {
                $headers = @{}
                if ($Signature) { $headers['X-Hmac-Signature'] = $Signature }
                try { (Invoke-WebRequest -Uri $Prefix -Method Post -Body $Body -ContentType 'application/json' -Headers $headers -TimeoutSec 10 -SkipHttpErrorCheck).StatusCode }
                catch { 'failed: ' + $_.Exception.Message }
            }
            function Sign([string] $Secret, [string] $Body) {
                $hmac = [System.Security.Cryptography.HMACSHA256]::new([System.Text.Encoding]::UTF8.GetBytes($Secret))
                'sha256=' + ([System.Convert]::ToHexString($hmac.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($Body)))).ToLowerInvariant()
            }
            function Head([long] $Length) { "POST /nen/ HTTP/1.1`r`nHost: 127.0.0.1:$Port`r`nContent-Type: application/json`r`nContent-Length: $Length`r`n`r`n" }
            $result = [ordered]@{}
            $body = '{"workflow_id":"w","message_id":"real-run","status":"success","expires_at":1730319600}'
            # Wait for the receiver: an unsigned probe is answered 401 once it listens.
            for ($i = 0; $i -lt 200 -and ($probe = Send '{}' $null) -ne 401; $i++) { Start-Sleep -Milliseconds 50 }
            $result.Probe = $probe
            $result.Unsigned = Send $body $null
            $result.WrongSecret = Send $body (Sign 'another-secret' $body)
            $result.Tampered = Send ($body -replace 'real-run', 'forged-run') (Sign $SecretText $body)
            # 10 MB declared, 64 KB sent, the rest never: the answer must not wait for it.
            $huge = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
            $stream = $huge.GetStream()
            $bytes = [System.Text.Encoding]::ASCII.GetBytes((Head (10MB)))
            $stream.Write($bytes, 0, $bytes.Length)
            $stream.Write([byte[]]::new(64KB), 0, 64KB)
            $stream.ReadTimeout = 10000
            $reader = [System.IO.StreamReader]::new($stream)
            $result.Huge = $reader.ReadLine()
            $huge.Dispose()
            # Headers, then nothing: this client stalls while the real delivery is made.
            $stalled = [System.Net.Sockets.TcpClient]::new('127.0.0.1', $Port)
            $bytes = [System.Text.Encoding]::ASCII.GetBytes((Head 500) + '{"message_id":')
            $stalled.GetStream().Write($bytes, 0, $bytes.Length)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $result.Real = Send $body (Sign $SecretText $body)
            $result.RealMs = $clock.ElapsedMilliseconds
            $stalled.Dispose()
            [pscustomobject]$result
        }

        $written = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -IncludeProcessing -TimeoutSec 8 -WarningVariable warnings -WarningAction SilentlyContinue
        $portFree = Test-PrefixFree $prefix
        $result = $traffic | Wait-Job -Timeout 60 | Receive-Job
        $traffic | Remove-Job -Force

        $result.Probe | Should -Be 401
        $result.Unsigned | Should -Be 401
        $result.WrongSecret | Should -Be 401
        $result.Tampered | Should -Be 401
        $result.Huge | Should -Match '^HTTP/1.1 413'
        $result.Real | Should -Be 200
        $result.RealMs | Should -BeLessThan 1000
        @($written) | Should -HaveCount 1
        $written.MessageId | Should -Be 'real-run'
        $warnings | Where-Object { $_.Message -match 'refused \(401\)' } | Should -HaveCount 1
        $portFree | Should -BeTrue
    }

    It 'reports a run still going at -TimeoutSec as Wait-NenRun does and frees the port' {
        $prefix = New-Prefix
        $status = [pscustomobject]@{ NAME = 'slow' } |
            Start-NenRun -WorkflowId $script:slow -WebhookCallback $prefix |
            Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -TimeoutSec 2 -FallbackAfterSec 30 -ErrorVariable late -ErrorAction SilentlyContinue
        $portFree = Test-PrefixFree $prefix

        $status.TimedOut | Should -BeTrue
        $status.Status | Should -Be 'processing'
        $late[0].FullyQualifiedErrorId | Should -Be 'NenWaitTimeout,NenAi.Commands.ReceiveNenWebhookCommand'
        $portFree | Should -BeTrue
    }

    It 'frees the port at once on Ctrl+C (SIGINT to a child pwsh)' -Skip:$IsWindows {
        # Windows has no SIGINT to send to another console process; the hosted engine's PowerShell.Stop() covers it there.
        $prefix = New-Prefix
        $child = Join-Path $TestDrive 'child.ps1'
        @"
Import-Module '$script:manifest'
`$secret = [System.Net.NetworkCredential]::new('', '$script:secretText').SecurePassword
try {
    Receive-NenWebhook -Prefix '$prefix' -WebhookSecret `$secret -Verbose
}
finally {
    `$again = [System.Net.HttpListener]::new()
    `$again.Prefixes.Add('$prefix')
    # Straight to the console: output of a stopped pipeline is dropped.
    try { `$again.Start(); [Console]::WriteLine('PREFIX FREE IN FINALLY') } catch { [Console]::WriteLine("PREFIX BUSY: `$_") } finally { `$again.Close() }
}
"@ | Set-Content -Path $child
        # A pwsh started from a background job may inherit SIGINT as ignored: give it the default back, as a terminal has it.
        $dotnet = (Get-Command dotnet).Source
        $psi = [System.Diagnostics.ProcessStartInfo]::new('env')
        foreach ($a in '--default-signal=INT', $dotnet, (Join-Path $PSHOME 'pwsh.dll'), '-NoProfile', '-NonInteractive', '-File', $child) { $psi.ArgumentList.Add($a) }
        $psi.RedirectStandardOutput = $true
        $psi.RedirectStandardError = $true
        $psi.UseShellExecute = $false
        foreach ($name in 'NEN_BASE_URL', 'NEN_API_KEY', 'NEN_SIGNING_KEY') { $psi.Environment[$name] = [Environment]::GetEnvironmentVariable($name) }
        $process = [System.Diagnostics.Process]::Start($psi)
        $errors = $process.StandardError.ReadToEndAsync()
        try {
            $lines = [System.Collections.Generic.List[string]]::new()
            $deadline = [DateTime]::UtcNow.AddSeconds(60)
            while ([DateTime]::UtcNow -lt $deadline) {
                $read = $process.StandardOutput.ReadLineAsync()
                if (-not $read.Wait([TimeSpan]::FromSeconds(60)) -or $null -eq $read.Result) { break }
                $lines.Add($read.Result)
                if ($read.Result -match 'Listening on') { break }
            }
            $lines -join "`n" | Should -Match 'Listening on' -Because 'the child receiver says where it listens before it is interrupted'
            Test-PrefixFree $prefix | Should -BeFalse

            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            & kill -INT $process.Id
            $rest = $process.StandardOutput.ReadToEndAsync()
            $process.WaitForExit(30000) | Should -BeTrue
            $clock.Elapsed.TotalSeconds | Should -BeLessThan 10
            $rest.Result | Should -Match 'PREFIX FREE IN FINALLY' -Because $errors.Result
            Test-PrefixFree $prefix | Should -BeTrue
        }
        finally {
            if (-not $process.HasExited) { $process.Kill() }
        }
    }

    It 'keeps a restarted receiver with the same state file from writing anything twice' {
        $prefix = New-Prefix
        $state = Join-Path $TestDrive 'webhooks.jsonl'
        $ids = 1..3 | ForEach-Object { [pscustomobject]@{ NAME = "restart $_" } } |
            Start-NenRun -WorkflowId $script:echo -WebhookCallback $prefix | ForEach-Object MessageId
        $first = $ids | Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -FallbackAfterSec 2 -TimeoutSec 60
        $again = $ids | Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -FallbackAfterSec 2 -TimeoutSec 60

        $first | Should -HaveCount 3
        $again | Should -BeNullOrEmpty
        # Each final update once: recorded when it was answered 200, then marked written.
        @(Get-Content $state | Where-Object { $_ -match '"received":' }) | Should -HaveCount 3
        @(Get-Content $state | Where-Object { $_ -match '"at":' }) | Should -HaveCount 3
        Get-Content $state | Should -HaveCount 6
    }
}

# A receiver one can expose, tried by tests/fakes/webhook_sender.py: a sender written from spec 6.4 in Python's
# standard library (no code shared with the module or the emulator), which can also hold many stalled connections.
Describe 'Receive-NenWebhook one can expose' {
    BeforeAll {
        $script:fake = Start-FakeNen
        $script:sender = Join-Path $PSScriptRoot '../fakes/webhook_sender.py'

        # Starts the sender in the background; Read-Sender waits for it and returns its JSON lines as objects.
        function script:Start-Sender {
            param([string[]] $Arguments)
            $psi = [System.Diagnostics.ProcessStartInfo]::new('python3')
            foreach ($a in @('-u', $script:sender, 'deliver') + $Arguments) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Errors = $process.StandardError.ReadToEndAsync() }
        }

        function script:Read-Sender {
            param($Sender, [int] $TimeoutSec = 60)
            if (-not $Sender.Process.WaitForExit($TimeoutSec * 1000)) { $Sender.Process.Kill(); throw "The sender did not finish within $TimeoutSec s." }
            $lines = @($Sender.Output.Result -split "`n" | Where-Object { $_.Trim() } | ForEach-Object { $_ | ConvertFrom-Json })
            if ($Sender.Process.ExitCode -ne 0) { throw "The sender failed ($($Sender.Process.ExitCode)): $($Sender.Output.Result) $($Sender.Errors.Result)" }
            [pscustomobject]@{
                Ready      = $lines | Where-Object { $_.PSObject.Properties['ready'] } | Select-Object -First 1
                Deliveries = @($lines | Where-Object { $_.PSObject.Properties['code'] })
                Summary    = ($lines | Where-Object { $_.PSObject.Properties['summary'] } | Select-Object -First 1).summary
            }
        }

        # A pwsh of its own that runs $Script (with the module imported), started and left running.
        function script:Start-ChildPwsh {
            param([string] $Script)
            $file = Join-Path $TestDrive ("child-{0}.ps1" -f [guid]::NewGuid().ToString('N'))
            "Import-Module '$script:manifest'`n$Script" | Set-Content -LiteralPath $file
            $command = @(Get-PwshCommand)
            $psi = [System.Diagnostics.ProcessStartInfo]::new($command[0])
            foreach ($a in @($command | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-File', $file)) { $psi.ArgumentList.Add($a) }
            $psi.RedirectStandardOutput = $true
            $psi.RedirectStandardError = $true
            $psi.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($psi)
            [pscustomobject]@{ Process = $process; Output = $process.StandardOutput.ReadToEndAsync(); Errors = $process.StandardError.ReadToEndAsync() }
        }

        # Polls until $Condition holds (an event this test waits for, not a pause), or fails after $TimeoutSec.
        function script:Wait-Until {
            param([scriptblock] $Condition, [string] $Because, [int] $TimeoutSec = 60)
            $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSec)
            while (-not (& $Condition)) {
                if ([DateTime]::UtcNow -gt $deadline) { throw "Timed out after $TimeoutSec s waiting until $Because" }
                Start-Sleep -Milliseconds 20
            }
        }

        function script:Test-Listening {
            param([string] $Prefix)
            try { (Invoke-WebRequest -Uri $Prefix -Method Post -Body '{}' -SkipHttpErrorCheck -TimeoutSec 2).StatusCode -eq 401 } catch { $false }
        }
    }

    AfterAll {
        Stop-FakeNen $script:fake
    }

    It 'has a sender that signs as spec 6.4 does (its test vector)' {
        (& python3 $script:sender selftest) | Should -Be 'sha256=21996d5aa24b68f926846745201355ffbd33bfef0e44e151d11bf2f2ae5c1ecb'
    }

    It 'answers 20 signed deliveries 200, each within 2 s, while 200 stalled connections are held open' {
        $prefix = New-Prefix
        $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--stalled', '200', '--count', '20', '--id-prefix', 'exposed-', '--concurrency', '4'

        $written = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -TimeoutSec 8 -WarningAction SilentlyContinue
        $result = Read-Sender $sender

        $result.Ready.stalledOpen | Should -Be 200
        $result.Deliveries | Should -HaveCount 20
        foreach ($d in $result.Deliveries) {
            $d.code | Should -Be 200 -Because "delivery $($d.id) beside $($d.stalledOpen) stalled connections"
            $d.ms | Should -BeLessThan 2000 -Because "delivery $($d.id) beside $($d.stalledOpen) stalled connections"
            $d.stalledOpen | Should -Be 200
        }
        @($written).Count | Should -Be 20
        ($written.MessageId | Sort-Object -Unique) | Should -HaveCount 20
        Write-Host ("20 deliveries beside 200 stalled connections: slowest {0} ms, median {1} ms" -f
            ($result.Deliveries.ms | Measure-Object -Maximum).Maximum, ($result.Deliveries.ms | Sort-Object)[10])
    }

    It 'as a service, warns of a status it does not know (once per run and status), takes timeout/completed/cancelled as final, and answers 400 to what is no run update, storing none of it' {
        $prefix = New-Prefix
        $state = Join-Path $TestDrive 'whstate.json'
        $payloads = Join-Path $TestDrive 'payloads.json'
        $exploded = 'eeeeeeee-0000-4000-8000-000000000003'
        $finals = @{ ([guid]::NewGuid().ToString()) = 'completed'; ([guid]::NewGuid().ToString()) = 'timeout'; ([guid]::NewGuid().ToString()) = 'CANCELLED' }
        $expires = [DateTimeOffset]::UtcNow.AddHours(1).ToUnixTimeSeconds()
        $bodies = @(
            @{ workflow_id = 'w'; message_id = $exploded; status = 'exploded'; expires_at = $expires }
            @{ workflow_id = 'w'; message_id = $exploded; status = 'exploded'; expires_at = $expires }   # redelivered
            @{ workflow_id = 'w'; message_id = $exploded; status = $null; expires_at = $expires }
            @{ workflow_id = 'w'; message_id = '../../../etc/passwd'; status = 'success'; expires_at = $expires }
            @{ workflow_id = 'w'; message_id = 12345; status = 'success'; expires_at = $expires }
            @{ workflow_id = 'w'; message_id = ('7' * 100000); status = 'success'; expires_at = $expires }
        ) + @($finals.GetEnumerator() | ForEach-Object { @{ workflow_id = 'w'; message_id = $_.Key; status = $_.Value; expires_at = $expires } })
        ConvertTo-Json -InputObject $bodies -Depth 3 -Compress | Set-Content -LiteralPath $payloads
        $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--payloads', $payloads

        $written = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -TimeoutSec 10 -Verbose `
            -WarningVariable warned -WarningAction SilentlyContinue -ErrorVariable failed -ErrorAction SilentlyContinue 4>$null
        $result = Read-Sender $sender

        $result.Deliveries.code | Should -Be @(200, 200, 400, 400, 400, 400, 200, 200, 200)
        # The final statuses of spec section 11, each written once; the unknown one is no output.
        @($written).Count | Should -Be 3
        foreach ($run in $written) { $run.Status | Should -Be $finals[$run.MessageId] }
        $unknown = @($warned | Where-Object { $_.Message -match "'exploded'" })
        $unknown | Should -HaveCount 1
        $unknown[0].Message | Should -Match "Run $exploded"
        $unknown[0].Message | Should -Match 'treated as still running'
        # Each body that is no run update is one error saying why; none of it reaches the state file.
        $failed | Should -HaveCount 4
        $failed | ForEach-Object { $_.FullyQualifiedErrorId | Should -Be 'NenUnexpectedResponse,NenAi.Commands.ReceiveNenWebhookCommand' }
        $failed | ForEach-Object { $_.CategoryInfo.Category | Should -Be 'InvalidResult' }
        $failed[0].Exception.Message | Should -Match 'its status is null'
        $failed[1].Exception.Message | Should -Match "would change the request's path"
        $failed[2].Exception.Message | Should -Match 'its message_id is a number'
        $failed[3].Exception.Message | Should -Match '100000 characters'
        $kept = Get-Content -LiteralPath $state -Raw
        $kept.Length | Should -BeLessThan 4096
        $kept | Should -Not -Match 'etc/passwd'
        $kept | Should -Not -Match $exploded
    }

    It 'writes, after a SIGKILL, every update answered 200 and not written, once, and nothing twice' -Skip:$IsWindows {
        $prefix = New-Prefix
        $state = Join-Path $TestDrive 'killed.webhooks.jsonl'
        $log = Join-Path $TestDrive 'downstream.log'
        $receive = "`$secret = [System.Net.NetworkCredential]::new('', '$script:secretText').SecurePassword`n" +
            "Receive-NenWebhook -Prefix '$prefix' -WebhookSecret `$secret -StatePath '$state'"
        # A downstream that takes 1.5 s per update: the ten answered 200 wait for it, in the receiver's backlog.
        $child = Start-ChildPwsh ($receive + " | ForEach-Object { Add-Content -LiteralPath '$log' ('begin ' + `$_.MessageId); Start-Sleep -Milliseconds 1500; Add-Content -LiteralPath '$log' ('end ' + `$_.MessageId) }")
        try {
            $sent = Read-Sender (Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--count', '10', '--id-prefix', 'killed-')
            $sent.Deliveries.code | Should -Be (@(200) * 10)
            # Killed while the third update is downstream (begun, not ended) and seven more wait.
            Wait-Until { (Test-Path -LiteralPath $log) -and @(Get-Content -LiteralPath $log | Where-Object { $_ -like 'begin *' }).Count -ge 3 } -Because 'the third update is downstream'
            & kill -KILL $child.Process.Id
            $child.Process.WaitForExit(30000) | Should -BeTrue
        }
        finally {
            if (-not $child.Process.HasExited) { $child.Process.Kill() }
        }
        @(Get-Content -LiteralPath $log | Where-Object { $_ -like 'end *' }).Count | Should -Be 2

        # Started again with the same state file: what was answered 200 and not written comes out first.
        $restart = Join-Path $TestDrive 'restart.ps1'
        "Import-Module '$script:manifest'`n$receive -TimeoutSec 2 -Verbose 4>&1 | ForEach-Object { if (`$_ -is [System.Management.Automation.VerboseRecord]) { 'VERBOSE: ' + `$_.Message } else { Add-Content -LiteralPath '$log' ('end ' + `$_.MessageId); 'WROTE ' + `$_.MessageId } }" |
            Set-Content -LiteralPath $restart
        $again = Invoke-FreshPwsh -File $restart -TimeoutSec 120
        $again.ExitCode | Should -Be 0 -Because $again.Errors
        $again.Output | Should -Match '8 update\(s\) an earlier receiver answered 200 and did not write are written first'

        $ends = Get-Content -LiteralPath $log | Where-Object { $_ -like 'end *' } | ForEach-Object { $_.Substring(4) }
        ($ends | Sort-Object) | Should -Be (0..9 | ForEach-Object { "killed-$_" } | Sort-Object)   # each of the ten once
        # A third start has nothing left to write.
        $third = Invoke-FreshPwsh -File $restart -TimeoutSec 120
        $third.Output | Should -Not -Match 'WROTE'
    }

    It 'still writes all 5 runs whose webhooks arrive when the key is refused (-FallbackAfterSec 0.3), with one warning' {
        $prefix = New-Prefix
        $ids = 1..5 | ForEach-Object { [guid]::NewGuid().ToString() }
        Reset-FakeNen $script:fake
        # The finals come once polling has been refused: only the webhooks can finish the runs.
        $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', ($ids -join ','),
            '--wait-for', "$($script:fake.BaseUri)/_fake/ledger", '--field', 'requests.get', '--at-least', '1'
        $wrongKey = ConvertTo-SecretText 'a-key-the-service-refuses'

        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $written = Receive-NenWebhook -Prefix $prefix -MessageId $ids -WebhookSecret $script:secret -BaseUri $script:fake.BaseUri -ApiKey $wrongKey `
            -FallbackAfterSec 0.3 -PollIntervalSec 0.1 -TimeoutSec 60 -ErrorVariable failed -WarningVariable warned -WarningAction SilentlyContinue
        $elapsed = $clock.Elapsed
        $result = Read-Sender $sender

        $result.Deliveries.code | Should -Be (@(200) * 5)
        @($written).Count | Should -Be 5
        ($written.MessageId | Sort-Object) | Should -Be ($ids | Sort-Object)
        $written | ForEach-Object { $_.Status | Should -Be 'success' }
        $failed | Should -BeNullOrEmpty
        @($warned | Where-Object { $_.Message -like 'Polling stopped:*' }).Count | Should -Be 1
        ($warned | Where-Object { $_.Message -like 'Polling stopped:*' }).Message | Should -Match 'API key'
        $elapsed.TotalSeconds | Should -BeLessThan 30   # it ended when the last webhook came, not at -TimeoutSec
        (Get-FakeNenLedger $script:fake).requests.get | Should -BeLessOrEqual 5
    }

    It 'names the runs neither path finished in one error, with the reason, when polling is refused' {
        $prefix = New-Prefix
        $ids = 1..5 | ForEach-Object { [guid]::NewGuid().ToString() }
        Reset-FakeNen $script:fake
        $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', ($ids[0..2] -join ','),
            '--wait-for', "$($script:fake.BaseUri)/_fake/ledger", '--field', 'requests.get', '--at-least', '1'

        $written = Receive-NenWebhook -Prefix $prefix -MessageId $ids -WebhookSecret $script:secret -BaseUri $script:fake.BaseUri -ApiKey (ConvertTo-SecretText 'refused') `
            -FallbackAfterSec 0.3 -PollIntervalSec 0.1 -TimeoutSec 4 -ErrorVariable failed -ErrorAction SilentlyContinue -WarningAction SilentlyContinue
        $null = Read-Sender $sender

        ($written.MessageId | Sort-Object) | Should -Be ($ids[0..2] | Sort-Object)
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'NenUnauthorized,NenAi.Commands.ReceiveNenWebhookCommand'
        $failed[0].Exception.Message | Should -Match '^2 run\(s\) had not finished'
        $failed[0].Exception.Message | Should -Match $ids[3]
        $failed[0].Exception.Message | Should -Match $ids[4]
        @($failed[0].TargetObject) | Should -Be @($ids[3], $ids[4])
    }

    It 'names the runs neither path finished in one error, with the reason, when every poll answers 500' {
        # Acceptance: a 5xx outage trips no circuit for a receiver's polling (its polls are only a safety net), and each
        # run then timed out with its own NenWaitTimeout, none saying why, with no warning that polling was failing.
        $prefix = New-Prefix
        $ids = 1..5 | ForEach-Object { [guid]::NewGuid().ToString() }
        Reset-FakeNen $script:fake
        Set-FakeNenFault $script:fake @{ get = @{ status = 500 } }
        try {
            $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', ($ids[0..2] -join ','),
                '--wait-for', "$($script:fake.BaseUri)/_fake/ledger", '--field', 'requests.get', '--at-least', '1'
            $written = Receive-NenWebhook -Prefix $prefix -MessageId $ids -WebhookSecret $script:secret -BaseUri $script:fake.BaseUri -ApiKey $script:fake.ApiKey `
                -FallbackAfterSec 0.3 -PollIntervalSec 0.2 -MaximumRetryCount 0 -TimeoutSec 4 -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
            $null = Read-Sender $sender
        }
        finally { Set-FakeNenFault $script:fake @{} }

        ($written.MessageId | Sort-Object) | Should -Be ($ids[0..2] | Sort-Object)
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be 'NenServerError,NenAi.Commands.ReceiveNenWebhookCommand'
        $failed[0].Exception.Message | Should -Match '^2 run\(s\) had not finished .* their status queries were failing: .*HTTP 500'
        $failed[0].Exception.Message | Should -Match $ids[3]
        $failed[0].Exception.Message | Should -Match $ids[4]
        @($warned | Where-Object { $_.Message -like 'Polling is failing:*' }).Count | Should -Be 1
    }

    It 'keeps listening when its polls get <What>: one "Polling stopped" warning, the webhooks finish their runs, one error names the others' -ForEach @(
        @{ What = 'a captive portal page (200 text/html)'; Fault = @{ status = 200; contentType = 'text/html'; body = '<html>login</html>' }; ErrorId = 'NenUnexpectedResponse' }
        @{ What = 'a 418'; Fault = @{ status = 418; contentType = 'text/plain'; body = "I'm a teapot" }; ErrorId = 'NenHttpError' }
    ) {
        # Acceptance (D2): with GET /runs/{id} answered this way the receiver gave up its 4 runs after about 4 s, one error
        # each (StatusUnknown 4), and the signed final webhooks sent afterwards got no answer. Polling is a safety net:
        # answers that are not the API's stop it as a refused key does. The finals of two runs come once the runs have
        # been polled; the other two never come, so their polls go on failing alike until polling stops.
        $prefix = New-Prefix
        $ids = 1..4 | ForEach-Object { [guid]::NewGuid().ToString() }
        Reset-FakeNen $script:fake
        Set-FakeNenFault $script:fake @{ get = $Fault }
        try {
            $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', ($ids[0..1] -join ','),
                '--wait-for', "$($script:fake.BaseUri)/_fake/ledger", '--field', 'requests.get', '--at-least', '4'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            $written = $ids | Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -BaseUri $script:fake.BaseUri -ApiKey $script:fake.ApiKey `
                -FallbackAfterSec 1 -PollIntervalSec 0.5 -TimeoutSec 8 -SummaryVariable summary -ErrorVariable failed -ErrorAction SilentlyContinue -WarningVariable warned -WarningAction SilentlyContinue
            $elapsed = $clock.Elapsed
            $result = Read-Sender $sender
            $gets = (Get-FakeNenLedger $script:fake).requests.get
        }
        finally { Set-FakeNenFault $script:fake @{} }

        Write-Host "receiver, $What on every poll: $gets GETs, $($elapsed.TotalSeconds.ToString('0.0')) s; summary: $summary"
        $result.Deliveries.code | Should -Be @(200, 200)
        ($written.MessageId | Sort-Object) | Should -Be ($ids[0..1] | Sort-Object)
        $failed | Should -HaveCount 1
        $failed[0].FullyQualifiedErrorId | Should -Be "$ErrorId,NenAi.Commands.ReceiveNenWebhookCommand"
        $failed[0].Exception.Message | Should -Match '^2 run\(s\) had not finished when their wait of 8 s ran out: no final webhook came for them, and polling had stopped: the status queries were answered, but not as the Nen API answers'
        @($failed[0].TargetObject) | Should -Be @($ids[2], $ids[3])
        @($warned | Where-Object { $_.Message -like 'Polling stopped:*' }).Count | Should -Be 1
        @($warned | Where-Object { $_.Message -like 'Polling stopped:*' }).Message | Should -Match 'captive portal'
        $summary.Outcomes.Runs | Should -Be 4
        $summary.Outcomes.Finished | Should -Be 2
        $summary.Outcomes.TimedOut | Should -Be 2
        $summary.Outcomes.StatusUnknown | Should -Be 0
        $elapsed.TotalSeconds | Should -BeGreaterOrEqual 8   # it listened until -TimeoutSec, as the webhooks of two runs never came
        $gets | Should -BeLessOrEqual 8                    # each run asked once and once more at most, then polling stopped
    }

    It 'writes nothing, restarted with its state file, for a run it recorded as final (service and wait mode)' {
        $prefix = New-Prefix
        $state = Join-Path $TestDrive 'final.webhooks.jsonl'
        $id = [guid]::NewGuid().ToString()
        $first = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', $id, '--status', 'success'
        $written = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -IncludeProcessing -TimeoutSec 3 -WarningAction SilentlyContinue
        $null = Read-Sender $first
        $written.Status | Should -Be 'success'

        # A late processing, a retried success and a contradicting failed, to a service restarted with the same file.
        $late = foreach ($status in 'processing', 'success', 'failed') {
            Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', $id, '--status', $status
        }
        $again = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -StatePath $state -IncludeProcessing -TimeoutSec 3 -WarningAction SilentlyContinue
        $late | ForEach-Object { (Read-Sender $_).Deliveries.code | Should -Be 200 }
        $again | Should -BeNullOrEmpty

        # Waiting for the run: nothing is written, and nothing is asked of the API.
        Reset-FakeNen $script:fake
        $waited = Receive-NenWebhook -Prefix $prefix -MessageId $id -WebhookSecret $script:secret -StatePath $state -BaseUri $script:fake.BaseUri -ApiKey $script:fake.ApiKey -FallbackAfterSec 0.1 -TimeoutSec 10 -SummaryVariable summary -WarningVariable warned -WarningAction SilentlyContinue
        $waited | Should -BeNullOrEmpty
        (Get-FakeNenLedger $script:fake).requests.get | Should -Be 0
        # ... and it says so: counted, and one warning with the way to act on the run again (acceptance: a re-run of a
        # batch whose downloads had stopped reported a clean '24 runs' for 40 given, and the 16 were never downloaded).
        $summary.Outcomes.Runs | Should -Be 1
        $summary.Outcomes.WrittenBefore | Should -Be 1
        @($warned).Count | Should -Be 1
        "$warned" | Should -Match '^1 run\(s\) were not written: the state file records .* Wait-NenRun'
    }

    It 'ends at once, its port free, when a later command takes no more or an error stops it (-ErrorAction Stop)' {
        # Before, the listener went on answering 200 (to deliveries nobody would write) until the command was disposed,
        # which waited for it the request timeout and more: about 105 s.
        $prefix = New-Prefix
        $sender = Start-Sender '--url', $prefix, '--secret', $script:secretText, '--wait-listening', '--ids', 'first-of-two'
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $first = Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -WarningAction SilentlyContinue | Select-Object -First 1
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
        $first.MessageId | Should -Be 'first-of-two'
        Test-PrefixFree $prefix | Should -BeTrue
        $null = Read-Sender $sender

        $prefix = New-Prefix
        $clock.Restart()
        { Receive-NenWebhook -Prefix $prefix -MessageId 'never-heard-of' -WebhookSecret $script:secret -BaseUri $script:fake.BaseUri -ApiKey $script:fake.ApiKey -FallbackAfterSec 60 -TimeoutSec 1 -ErrorAction Stop } |
            Should -Throw -ErrorId 'NenWaitTimeout,NenAi.Commands.ReceiveNenWebhookCommand'
        $clock.Elapsed.TotalSeconds | Should -BeLessThan 20
        Test-PrefixFree $prefix | Should -BeTrue
    }

    It 'refuses -TimeoutSec 3000000 as a parameter validation error, as Wait-NenRun does' {
        $prefix = New-Prefix
        { Receive-NenWebhook -Prefix $prefix -WebhookSecret $script:secret -TimeoutSec 3000000 } |
            Should -Throw -ErrorId 'ParameterArgumentValidationError,NenAi.Commands.ReceiveNenWebhookCommand'
        { Wait-NenRun -MessageId x -TimeoutSec 3000000 } | Should -Throw -ErrorId 'ParameterArgumentValidationError,NenAi.Commands.WaitNenRunCommand'
        Test-PrefixFree $prefix | Should -BeTrue
    }
}
