#Requires -Version 7.4
# What a user meets in a real console and in a scheduled task's log: an interactive pwsh in a pseudo-terminal,
# stopped with Ctrl+C mid-batch and mid-wait, and a redirected, non-interactive run's log.

BeforeDiscovery {
    $noPty = -not $IsLinux -or -not (Get-Command script -CommandType Application -ErrorAction Ignore)
}

BeforeAll {
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
    $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $PSScriptRoot 'emulator.pester.json')
    $script:baseUri = $script:emulator.BaseUri
    $script:echo = '11111111-1111-1111-1111-111111111111'
    $script:slow = '44444444-4444-4444-4444-444444444444'
    $script:manifest = Join-Path $script:root 'out/NenAi/NenAi.psd1'

    function Set-EmulatorFault([hashtable] $Fault) {
        $null = Invoke-RestMethod -Method Post -Uri "$script:baseUri/_emulator/faults" -Body ($Fault | ConvertTo-Json) -ContentType 'application/json'
    }

    # Runs as a terminal would, until a condition holds: the pty's own output is the event that ends the wait.
    function Wait-Until([scriptblock] $Condition, [int] $TimeoutSec = 60, [string] $Because) {
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        while (-not (& $Condition)) {
            if ($clock.Elapsed.TotalSeconds -gt $TimeoutSec) { throw "Timed out after $TimeoutSec s waiting until $Because." }
            $null = $script:console.WaitFor("`n", $script:console.Length, [timespan]::FromMilliseconds(200))
        }
    }

    function Start-Console {
        if (-not ('NenAi.PesterSupport.PseudoConsole' -as [type])) { Add-Type -Path (Join-Path $PSScriptRoot 'PseudoConsole.cs') }
        $pwsh = (@(Get-PwshCommand) | ForEach-Object { "'$_'" }) -join ' '
        $environment = [System.Collections.Generic.Dictionary[string, string]]::new()
        $environment['NEN_BASE_URL'] = $script:baseUri
        $environment['NEN_API_KEY'] = 'pester-api-key'
        $environment['NEN_SIGNING_KEY'] = 'pester-signing-key'
        $environment['TERM'] = 'xterm-256color'
        $environment['HOME'] = (New-Item -ItemType Directory -Path (Join-Path $TestDrive "home-$([guid]::NewGuid())")).FullName   # its own PSReadLine history
        # A run started in the background (nohup, CI) inherits SIGINT as ignored; a console window never does.
        $script:console = [NenAi.PesterSupport.PseudoConsole]::new("env --default-signal=INT $pwsh -NoProfile -NoLogo", $TestDrive, $environment)
        # Type only once pwsh shows its first prompt and has settled, as a person would.
        $script:console.WaitFor('> ', 0, [timespan]::FromSeconds(60)) | Should -BeTrue -Because 'pwsh starts in the pty'
        $script:console.WaitForQuiet([timespan]::FromMilliseconds(500), [timespan]::FromSeconds(10))
        $script:console.Enter("function prompt { 'NEN' + 'PROMPT> ' }", [timespan]::FromSeconds(60))
        $script:console.WaitFor('NENPROMPT> ', 0, [timespan]::FromSeconds(60)) | Should -BeTrue -Because "pwsh starts in the pty: $([NenAi.PesterSupport.PseudoConsole]::Plain($script:console.Screen))"
        $mark = $script:console.Length
        $script:console.Enter("Import-Module '$script:manifest'", [timespan]::FromSeconds(30))
        $script:console.WaitFor('NENPROMPT> ', $mark, [timespan]::FromSeconds(60)) | Should -BeTrue
    }

    # Ctrl+C, then the time until the prompt is back.
    function Stop-WithCtrlC {
        $mark = $script:console.Length
        $clock = [System.Diagnostics.Stopwatch]::StartNew()
        $script:console.Type([string][char]3)
        $back = $script:console.WaitFor('NENPROMPT> ', $mark, [timespan]::FromSeconds(30))
        $clock.Stop()
        $back | Should -BeTrue -Because "the prompt comes back after Ctrl+C: $([NenAi.PesterSupport.PseudoConsole]::Plain($script:console.Screen.Substring($mark)))"
        $clock.Elapsed
    }
}

AfterAll {
    if ($script:console) { $script:console.Dispose() }
    Stop-EmulatorProcess $script:emulator
}

Describe 'Ctrl+C in a real console' -Skip:$noPty {
    BeforeEach { Start-Console }
    AfterEach {
        if ($script:console) {
            try { $script:console.Enter('exit', [timespan]::FromSeconds(10)) } catch { }
            $null = $script:console.WaitForExit([timespan]::FromSeconds(10))
            $script:console.Dispose()
            $script:console = $null
        }
        Set-EmulatorFault @{}
    }

    It 'in the middle of a journaled batch gives the prompt back within 2 s, and the journal matches the ledger' {
        Set-EmulatorFault @{ latencyMs = 400; applyTo = 'post' }
        $journal = Join-Path $TestDrive 'ctrlc.jsonl'
        $before = @((Get-EmulatorLedger $script:baseUri).runs.messageId)
        $script:console.Enter("1..300 | ForEach-Object { [pscustomobject]@{ Id = `$_; NAME = `"row `$_`" } } | Start-NenRun -WorkflowId $script:echo -KeyProperty Id -ExcludeProperty Id -JournalPath '$journal' -ThrottleLimit 4 | Out-Null", [timespan]::FromSeconds(30))
        Wait-Until { (Test-Path $journal) -and @(Get-Content $journal | Where-Object { $_ -match '"Accepted"' }).Count -ge 8 } -Because 'the batch has accepted runs'

        $elapsed = Stop-WithCtrlC
        Write-Host "  Ctrl+C mid-batch: prompt back in $([math]::Round($elapsed.TotalMilliseconds)) ms"
        $elapsed.TotalSeconds | Should -BeLessThan 2

        # Every run the server accepted is in the journal as this row's, and the journal claims no other.
        $last = @{}
        foreach ($line in Get-Content $journal) { $record = $line | ConvertFrom-Json; if ($record.key) { $last[$record.key] = $record } }
        $accepted = @($last.Values | Where-Object state -EQ 'Accepted' | ForEach-Object messageId | Sort-Object)
        $started = @((Get-EmulatorLedger $script:baseUri).runs.messageId | Where-Object { $_ -notin $before } | Sort-Object)
        $started.Count | Should -BeGreaterOrEqual 8
        $started.Count | Should -BeLessThan 300 -Because 'Ctrl+C stopped the batch'
        $accepted | Should -Be $started
        @($last.Values | Where-Object state -EQ 'Submitting') | Should -BeNullOrEmpty -Because 'no row is left with an unknown outcome'
    }

    It 'in the middle of a wait gives the prompt back within 2 s' {
        $script:console.Enter("`$runs = 1..3 | ForEach-Object { [pscustomobject]@{ NAME = `"slow `$_`" } } | Start-NenRun -WorkflowId $script:slow; `$runs | Wait-NenRun -PollIntervalSec 1", [timespan]::FromSeconds(30))
        Wait-Until { (Get-EmulatorLedger $script:baseUri).requests.getRuns -ge 6 } -Because 'Wait-NenRun is polling'

        $elapsed = Stop-WithCtrlC
        Write-Host "  Ctrl+C mid-wait: prompt back in $([math]::Round($elapsed.TotalMilliseconds)) ms"
        $elapsed.TotalSeconds | Should -BeLessThan 2
    }
}

Describe 'A scheduled run, redirected to a log' {
    It 'writes no progress and no escape codes into its log, without -NoProgress' {
        Set-EmulatorFault @{ latencyMs = 50; applyTo = 'all' }
        try {
            $script = Join-Path $TestDrive 'scheduled.ps1'
            Set-Content -LiteralPath $script -Value @"
if (`$PSStyle) { `$PSStyle.OutputRendering = 'PlainText' }
Import-Module '$script:manifest'
1..60 | ForEach-Object { [pscustomobject]@{ NAME = "row `$_" } } |
    Start-NenRun -WorkflowId $script:echo -ThrottleLimit 2 |
    Wait-NenRun -PollIntervalSec 0.5 |
    Get-NenRunResult -Destination '$(Join-Path $TestDrive 'scheduled')' |
    Select-Object -Last 3 | Format-Table MessageId, Name
Write-Warning 'a warning for the log'
"@
            $run = Invoke-FreshPwsh -File $script -WorkingDirectory $TestDrive -Environment @{
                NEN_BASE_URL = $script:baseUri; NEN_API_KEY = 'pester-api-key'; NEN_SIGNING_KEY = 'pester-signing-key'; TERM = 'xterm-256color'
            }
            $log = "$($run.Output)$($run.Errors)"
            $run.ExitCode | Should -Be 0 -Because (Remove-Ansi $log)
            $log | Should -Match 'a warning for the log'
            $log | Should -Not -Match "`e" -Because 'a log file is read in an editor, not a terminal'
            $log | Should -Not -Match 'in flight|\d+ accepted, \d+ failed|\d+ of \d+ run|Start-NenRun|Wait-NenRun|Get-NenRunResult' -Because 'progress is for a console'
        }
        finally { Set-EmulatorFault @{} }
    }
}
