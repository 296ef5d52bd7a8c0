#Requires -Version 7.4
# The documentation cannot describe a module that does not exist:
# - every example of the cmdlet help (docs/en-US) runs against the emulator with its demo configuration;
# - every powershell block of README.md runs AS WRITTEN, in order, each in a fresh pwsh process, in a folder laid
#   out like the repository root, against the emulator started with the README's own command (port 5080), with
#   the module installed the README's way (Install-PSResource into a private $HOME).

BeforeDiscovery {
    $root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    $examples = @(Get-DocExample -Root $root)
    $helpExamples = @($examples | Where-Object Kind -EQ 'help')
    # In the README's order, except that a block needing the installed module runs after the Install section's.
    $readmeBlocks = @($examples | Where-Object Kind -EQ 'readme' | Sort-Object { $_.AfterInstall }, { $_.Line })
}

BeforeAll {
    $script:root = (Resolve-Path (Join-Path $PSScriptRoot '../..')).ProviderPath
    Import-Module (Join-Path $PSScriptRoot 'TestHelpers.psm1') -Force
    Import-Module (Join-Path $script:root 'tools/EmulatorProcess.psm1') -Force
}

Describe 'Help examples' {
    BeforeAll {
        Import-Module (Join-Path $script:root 'out/NenAi/NenAi.psd1') -Force
        $script:emulator = Start-EmulatorProcess -ConfigPath (Join-Path $script:root 'src/NenAi.Emulator/emulator.sample.json')
        $env:NEN_BASE_URL = $script:emulator.BaseUri
        $env:NEN_API_KEY = 'nen-demo-api-key'
        $env:NEN_SIGNING_KEY = 'nen-demo-signing-key'

        # The examples use SecretManagement; where it is not installed, a stand-in answers with the demo values.
        if (-not (Get-Command Get-Secret -ErrorAction Ignore)) {
            function global:Get-Secret {
                param([string] $Name)
                $value = switch ($Name) { 'NenApiKey' { 'nen-demo-api-key' } 'NenSigningKey' { 'nen-demo-signing-key' } default { 'correct horse battery staple' } }
                ConvertTo-SecretText $value
            }
            $script:stubbedGetSecret = $true
        }

        # Webhook receiver examples wait for a delivery: this sends signed ones until the receiver stops.
        $script:sendWebhooks = {
            param([string] $Secret)
            $hmac = [System.Security.Cryptography.HMACSHA256]::new([System.Text.Encoding]::UTF8.GetBytes($Secret))
            foreach ($status in 'processing', 'success') {
                $body = '{"workflow_id":"w","message_id":"m","status":"' + $status + '","expires_at":1730319600}'
                $signature = 'sha256=' + ([System.BitConverter]::ToString($hmac.ComputeHash([System.Text.Encoding]::UTF8.GetBytes($body))) -replace '-').ToLowerInvariant()
                for ($attempt = 0; $attempt -lt 100; $attempt++) {
                    try {
                        $null = Invoke-WebRequest -Uri 'http://127.0.0.1:8089/nen/' -Method Post -Body $body -ContentType 'application/json' -Headers @{ 'X-Hmac-Signature' = $signature } -TimeoutSec 5
                        break
                    }
                    catch { Start-Sleep -Milliseconds 100 }   # the receiver is not listening yet (or has stopped)
                }
            }
        }
    }

    AfterAll {
        Stop-EmulatorProcess $script:emulator
        Remove-Module NenAi -ErrorAction SilentlyContinue
        if ($script:stubbedGetSecret) { Remove-Item Function:\Get-Secret -ErrorAction SilentlyContinue }
        Remove-Item Env:NEN_BASE_URL, Env:NEN_API_KEY, Env:NEN_SIGNING_KEY, Env:NEN_WEBHOOK_SECRET -ErrorAction SilentlyContinue
    }

    BeforeEach {
        $script:work = Join-Path $TestDrive ([guid]::NewGuid())
        New-Item -ItemType Directory -Path $script:work | Out-Null
        Copy-Item (Join-Path $script:root 'docs/examples/jobs.csv') $script:work
        Push-Location $script:work
        $env:NEN_WEBHOOK_SECRET = 'whsec-test'
    }
    AfterEach { Pop-Location }

    It '<Source>: <Title>' -ForEach $helpExamples {
        $job = $null
        # Receivers that start their own run get the emulator's real webhooks; the others get signed stand-ins.
        if ($Code -match 'HttpListener' -and $Code -notmatch '-WebhookCallback') {
            $job = Start-ThreadJob -ScriptBlock $script:sendWebhooks -ArgumentList 'whsec-test'
        }
        try {
            $output = & ([scriptblock]::Create($Code)) 2>&1
            $terminating = $output | Where-Object { $_ -is [System.Management.Automation.ErrorRecord] -and $_.FullyQualifiedErrorId -notmatch '^Nen(RunFailed|WaitTimeout)' }
            $terminating | Should -BeNullOrEmpty -Because ($terminating | Out-String)
        }
        finally {
            if ($job) { $job | Wait-Job -Timeout 30 | Remove-Job -Force }
        }
    }
}

Describe 'README, block by block, as a user runs it' {
    BeforeAll {
        # A folder laid out like the repository root (what the README's relative paths mean), whose out/ is the
        # build's, so the blocks' own files (results, journals, logs) stay out of the repository.
        $script:scratch = Join-Path $TestDrive 'repo'
        $null = New-Item -ItemType Directory -Path $script:scratch
        foreach ($item in Get-ChildItem -LiteralPath $script:root -Force | Where-Object Name -NotIn '.git', 'jobs.csv') {
            $type = if ($IsWindows -and $item.PSIsContainer) { 'Junction' } else { 'SymbolicLink' }
            $null = New-Item -ItemType $type -Path (Join-Path $script:scratch $item.Name) -Target $item.FullName
        }
        Copy-Item (Join-Path $script:root 'docs/examples/jobs.csv') $script:scratch

        # A private home: the README's Install-PSResource and Register-PSResourceRepository change nothing of the
        # real user's; the .NET tools and NuGet packages stay where they are.
        $realHome = [System.Environment]::GetFolderPath('UserProfile')
        $script:childEnvironment = @{
            HOME = (New-Item -ItemType Directory -Path (Join-Path $TestDrive 'home')).FullName
            NUGET_PACKAGES = if ($env:NUGET_PACKAGES) { $env:NUGET_PACKAGES } else { Join-Path $realHome '.nuget/packages' }
            DOTNET_CLI_HOME = $realHome
            PSModulePath = $null; XDG_DATA_HOME = $null; XDG_CONFIG_HOME = $null; XDG_CACHE_HOME = $null
            # The recipes run in a session where the Quick start's variables are set, as the README says.
            NEN_BASE_URL = 'http://127.0.0.1:5080'; NEN_API_KEY = 'nen-demo-api-key'; NEN_SIGNING_KEY = 'nen-demo-signing-key'
            NEN_WEBHOOK_SECRET = $null
        }

        # SecretManagement with a vault holding the demo keys, as the README's blocks that read secrets by name expect
        # (a stand-in: the module is not served on our build machines).
        $modules = New-Item -ItemType Directory -Path (Join-Path $script:childEnvironment.HOME '.local/share/powershell/Modules') -Force
        Copy-Item -Path (Join-Path $PSScriptRoot 'StandIns/*') -Destination $modules -Recurse

        # The emulator, started with the README's command as written (from the repository root).
        $readme = Get-Content -LiteralPath (Join-Path $script:root 'README.md')
        $at = [array]::IndexOf($readme, '<!-- emulator -->')
        if ($at -lt 0) { throw 'README.md has no <!-- emulator --> block.' }
        $script:emulatorCommand = $readme[$at + 2]
        $words = @($script:emulatorCommand -split '\s+' | Where-Object { $_ })
        $psi = [System.Diagnostics.ProcessStartInfo]::new($words[0])
        foreach ($w in @($words | Select-Object -Skip 1)) { $psi.ArgumentList.Add($w) }
        $psi.WorkingDirectory = $script:root
        $psi.RedirectStandardOutput = $true
        $psi.UseShellExecute = $false
        $script:emulatorProcess = [System.Diagnostics.Process]::Start($psi)
        $first = $script:emulatorProcess.StandardOutput.ReadLineAsync()
        if (-not $first.Wait(60000) -or $first.Result -notmatch 'listening on http://127\.0\.0\.1:5080') {
            throw "'$script:emulatorCommand' did not start the emulator on port 5080 (is the port taken?): $($first.Result)"
        }
        $script:ran = @{}

        <#
        .SYNOPSIS
            What the nightly recipe's header says of its log, checked on <Bytes> (the log file, or what the script
            printed): plain ASCII with no escape codes, no blank line, every line led by the time it was logged
            (Get-Date -Format o) and in time order, starting with "batch <name> started" and ending with
            "batch <name> ended". Returns the lines.
        #>
        function Assert-NightlyLog([byte[]] $Bytes) {
            @($Bytes | Where-Object { $_ -gt 0x7E -or ($_ -lt 0x20 -and $_ -notin 0x0A, 0x0D) }) | Should -BeNullOrEmpty -Because 'the log is plain ASCII, without escape codes'
            $text = [System.Text.Encoding]::ASCII.GetString($Bytes)
            $lines = @($text.TrimEnd("`r", "`n") -split "`r?`n")
            $lines | Where-Object { $_.Trim() -eq '' } | Should -BeNullOrEmpty -Because "the log has no blank lines: $text"
            $previous = [DateTimeOffset]::MinValue
            foreach ($line in $lines) {
                $line | Should -Match '^(?<at>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+[+-]\d\d:\d\d) \S' -Because "each line starts with the time: $text"
                $at = [DateTimeOffset]::Parse(($line -split ' ')[0], [cultureinfo]::InvariantCulture)
                $at | Should -BeGreaterOrEqual $previous -Because "the lines are in time order: $text"
                $previous = $at
            }
            $lines[0] | Should -Match ' batch \S+ started$'
            $lines[-1] | Should -Match ' batch \S+ ended$'
            $lines
        }

        <# The README recipe's header line after "<Label>:" (the cron line, the Task Scheduler arguments). #>
        function Get-RecipeHeaderLine([string] $Pattern) {
            $recipe = (Get-DocExample -Root $script:root | Where-Object { $_.Kind -eq 'readme' -and $_.File -eq 'nightly-export.ps1' }).Code
            $line = @($recipe -split "`n" | Where-Object { $_ -match $Pattern })
            $line | Should -HaveCount 1 -Because "the recipe's header has one line matching $Pattern"
            $line[0]
        }

        <#
        .SYNOPSIS
            Runs the recipe's cron line <Cron> (its header line) by sh -c, as cron does, for the copy in <Folder>; returns
            the exit code.
        #>
        function Invoke-RecipeCronLine([string] $Cron, [string] $Folder) {
            $Cron -match '^#\s+cron \(sh\):\s+(\S+\s+){5}(?<command>.+)$' | Should -BeTrue -Because "a cron line is five time fields and a command: $Cron"
            $command = $Matches['command'].Replace('/jobs/', "$Folder/")
            # cron's sh finds pwsh on its PATH; here pwsh is a dotnet tool, so a one-line pwsh stands in for it there.
            $bin = Join-Path $TestDrive 'cron-bin'
            if (-not (Test-Path -LiteralPath $bin)) {
                $null = New-Item -ItemType Directory -Path $bin
                $pwsh = @(Get-PwshCommand)
                Set-Content -LiteralPath (Join-Path $bin 'pwsh') -Value ("#!/bin/sh`nexec " + (($pwsh | ForEach-Object { "'$_'" }) -join ' ') + ' "$@"') -NoNewline
                & chmod +x (Join-Path $bin 'pwsh')
            }
            $psi = [System.Diagnostics.ProcessStartInfo]::new('sh')
            $psi.ArgumentList.Add('-c'); $psi.ArgumentList.Add($command)
            $psi.WorkingDirectory = $TestDrive          # not the script's folder: the recipe finds its files from its own
            foreach ($name in $script:childEnvironment.Keys) {
                if ($null -eq $script:childEnvironment[$name]) { $null = $psi.Environment.Remove($name) } else { $psi.Environment[$name] = [string]$script:childEnvironment[$name] }
            }
            $psi.Environment['PATH'] = "$bin$([System.IO.Path]::PathSeparator)$env:PATH"
            $psi.UseShellExecute = $false
            $process = [System.Diagnostics.Process]::Start($psi)
            $process.WaitForExit(300000) | Should -BeTrue
            $process.ExitCode
        }

        <#
        .SYNOPSIS
            Runs the recipe's Task Scheduler action (its header's arguments line) for the copy in <Folder>, as the task
            would start pwsh with them; returns the exit code the scheduler would record.
        #>
        function Invoke-RecipeTaskAction([string] $Folder) {
            $arguments = Get-RecipeHeaderLine '^#\s+-NoProfile .*-Command '
            $arguments -match '-Command "(?<command>.+)"\s*$' | Should -BeTrue -Because "the action runs one -Command: $arguments"
            $command = $Matches['command'].Replace('C:\jobs\', "$Folder/")
            $pwsh = @(Get-PwshCommand)
            $psi = [System.Diagnostics.ProcessStartInfo]::new($pwsh[0])
            foreach ($a in @($pwsh | Select-Object -Skip 1) + @('-NoProfile', '-NonInteractive', '-Command', $command)) { $psi.ArgumentList.Add($a) }
            $psi.WorkingDirectory = $TestDrive
            foreach ($name in $script:childEnvironment.Keys) {
                if ($null -eq $script:childEnvironment[$name]) { $null = $psi.Environment.Remove($name) } else { $psi.Environment[$name] = [string]$script:childEnvironment[$name] }
            }
            $psi.UseShellExecute = $false
            $psi.RedirectStandardError = $true     # what -Command prints itself (a script it cannot find), not the log's
            $process = [System.Diagnostics.Process]::Start($psi)
            $null = $process.StandardError.ReadToEnd()
            $process.WaitForExit(300000) | Should -BeTrue
            $process.ExitCode
        }

        <# A copy of the recipe as written, with the demo CSV (or <Csv>), in a folder of its own. #>
        function New-NightlyFolder([string] $Name, [string] $Csv = (Join-Path $script:root 'docs/examples/jobs.csv')) {
            $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive $Name)
            Copy-Item (Join-Path $script:scratch 'nightly-export.ps1') -Destination $folder
            Copy-Item -LiteralPath $Csv -Destination (Join-Path $folder 'jobs.csv')
            $folder.FullName
        }
    }

    AfterAll {
        if ($script:emulatorProcess -and -not $script:emulatorProcess.HasExited) { $script:emulatorProcess.Kill(); $script:emulatorProcess.WaitForExit(10000) }
    }

    It '<Title> runs as written in a fresh pwsh' -ForEach $readmeBlocks {
        $Marked | Should -BeTrue -Because 'every powershell block of the README is run here: put <!-- example --> (or <!-- example: name.ps1 exit=N -->) right above it'
        $path = Join-Path $script:scratch $File
        Set-Content -LiteralPath $path -Value $Code -Encoding utf8NoBOM
        $result = Invoke-FreshPwsh -File $path -WorkingDirectory $script:scratch -Environment $script:childEnvironment
        $script:ran[$File] = $result
        if (-not $script:ran.ContainsKey($Heading)) { $script:ran[$Heading] = $result }
        Write-Host "  $File ($Heading): exit $($result.ExitCode) in $([math]::Round($result.Elapsed.TotalSeconds, 1)) s"
        $shown = Remove-Ansi "$($result.Output)`n$($result.Errors)"
        $result.ExitCode | Should -Be $ExpectedExit -Because $shown
        Measure-ShownError $result.Errors | Should -Be $ExpectedErrors -Because "a user pasting the block sees only the errors the README explains: $shown"
        if ($ExpectedErrors -eq 0) { $result.Errors | Should -BeNullOrEmpty -Because $shown }
    }

    It 'the Quick start saved its run''s files under ./results' {
        $files = Get-ChildItem -LiteralPath (Join-Path $script:scratch 'results') -Recurse -File
        $files.Name | Should -Contain 'invoice.txt'
        $files.Name | Should -Contain 'assets.zip'
    }

    It 'the CSV recipe listed every saved file in files.csv and reported the failed row by its id' {
        $listed = Import-Csv -LiteralPath (Join-Path $script:scratch 'files.csv')
        @($listed | Where-Object Name -EQ 'invoice.txt' | Select-Object -ExpandProperty MessageId -Unique).Count | Should -Be 3   # the demo CSV's good rows
        $script:ran['A CSV batch'].Output | Should -Match '(?m)^NenRunFailed,.*Customer not found in the ERP'
    }

    It 'the scheduled-task recipe prints its log as its header says: ASCII, one timestamped line per event, in order, nothing on stderr' {
        $log = $script:ran['nightly-export.ps1']
        $log | Should -Not -BeNullOrEmpty
        $log.Errors | Should -BeNullOrEmpty
        $lines = Assert-NightlyLog ([System.Text.Encoding]::UTF8.GetBytes($log.Output))
        $lines | Where-Object { $_ -match ' error NenRunFailed,NenAi\.Commands\.GetNenRunResultCommand: Row 4 \(JobId 1004\): .*Customer not found in the ERP' } | Should -HaveCount 1 -Because ($lines -join "`n")
        foreach ($command in 'Start-NenRun', 'Wait-NenRun', 'Get-NenRunResult') { $lines | Where-Object { $_ -match " $command`: " } | Should -HaveCount 1 }
    }

    It 'the cron line of the recipe''s header, run by sh -c as cron runs it, writes a log that is ASCII and in order, and exits 1 for the failed row' {
        $cron = Get-RecipeHeaderLine '^#\s+cron \(sh\):'
        # The user's own data: keys beyond ASCII, a CSV with a BOM. The log shows them as ?, the export keeps them.
        $csv = Join-Path $TestDrive 'cron-jobs.csv'
        $rows = Import-Csv -LiteralPath (Join-Path $script:root 'docs/examples/jobs.csv')
        foreach ($r in $rows) { $r.JobId = "東京-$($r.JobId)-✓" }
        $rows | Export-Csv -LiteralPath $csv -NoTypeInformation -Encoding utf8BOM
        $folder = New-NightlyFolder cron $csv
        Invoke-RecipeCronLine $cron $folder | Should -Be 1 -Because 'the FAIL row failed'

        $logFile = Join-Path $folder 'nightly-export.log'
        $logFile | Should -Exist
        $lines = Assert-NightlyLog ([System.IO.File]::ReadAllBytes($logFile))
        $lines | Where-Object { $_ -match ' error NenRunFailed,.*Row 4 \(JobId \?\?-1004-\?\): .*Customer not found in the ERP' } | Should -HaveCount 1 -Because ($lines -join "`n")
        (Import-Csv -LiteralPath (Join-Path $folder 'nightly-files.csv')).RowKey | Sort-Object -Unique | Should -Be @('東京-1001-✓', '東京-1002-✓', '東京-1003-✓')
    }

    It 'the cron line, on a night whose CSV did not arrive: the log says so in lines of its own (ASCII, timed, in order), and the exit code is 1' {
        $folder = New-NightlyFolder cron-nocsv
        Remove-Item -LiteralPath (Join-Path $folder 'jobs.csv')
        Invoke-RecipeCronLine (Get-RecipeHeaderLine '^#\s+cron \(sh\):') $folder | Should -Be 1 -Because 'there was nothing to send'
        $lines = Assert-NightlyLog ([System.IO.File]::ReadAllBytes((Join-Path $folder 'nightly-export.log')))
        $lines[0] | Should -Match ' batch jobs started$'
        $lines | Where-Object { $_ -match ' stopped by \S+ImportCsvCommand: .*jobs\.csv' } | Should -HaveCount 1 -Because ($lines -join "`n")
    }

    It 'the Task Scheduler action of the recipe''s header writes a log that is ASCII and in order, and passes the exit code on' {
        $folder = New-NightlyFolder taskscheduler
        Invoke-RecipeTaskAction $folder | Should -Be 1 -Because 'the script''s exit code reaches the scheduler'

        $lines = Assert-NightlyLog ([System.IO.File]::ReadAllBytes((Join-Path $folder 'nightly-export.log')))
        $lines | Where-Object { $_ -match ' error NenRunFailed,.*Customer not found in the ERP' } | Should -HaveCount 1 -Because ($lines -join "`n")
    }

    It 'the Task Scheduler action exits non-zero when the script does not run at all (a wrong path)' {
        # -Command's own exit code is that of its last statement: with the script never run, $LASTEXITCODE was empty and
        # the task reported 0, success.
        $folder = New-NightlyFolder taskscheduler-nopath
        Remove-Item -LiteralPath (Join-Path $folder 'nightly-export.ps1')
        Invoke-RecipeTaskAction $folder | Should -Not -Be 0
    }

    It 'the scheduled-task recipe logs the one error that stopped its batch (a refused key), and exits 1' {
        # Acceptance: with a revoked key the log was empty: the exit in finally ended the script before the error was written.
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'refused')
        Copy-Item (Join-Path $script:scratch 'nightly-export.ps1'), (Join-Path $script:root 'docs/examples/jobs.csv') -Destination $folder
        $environment = @{} + $script:childEnvironment
        $environment['NEN_API_KEY'] = 'nen_demo_this-key-was-revoked'
        # The same home (the module installed as the README says) without the vault, so the key comes from NEN_API_KEY.
        Copy-Item -LiteralPath $script:childEnvironment.HOME -Destination (Join-Path $folder 'home') -Recurse
        Remove-Item -LiteralPath (Join-Path $folder 'home/.local/share/powershell/Modules/Microsoft.PowerShell.SecretManagement') -Recurse
        $environment['HOME'] = Join-Path $folder 'home'
        $run = Invoke-FreshPwsh -File (Join-Path $folder 'nightly-export.ps1') -WorkingDirectory $folder -Environment $environment
        $log = (Remove-Ansi "$($run.Output)`n$($run.Errors)") -replace '\s*\|?\s*\r?\n\s*\|?\s*', ' '
        $run.ExitCode | Should -Be 1
        # In order, no blank line. Start-NenRun's stop is the last of its errors (not an error that ends the script), so
        # Wait-NenRun and Get-NenRunResult end normally with nothing to follow, and the summaries say so.
        $lines = Assert-NightlyLog ([System.Text.Encoding]::UTF8.GetBytes($run.Output))
        $lines | Where-Object { $_ -match ' error NenUnauthorized,NenAi\.Commands\.StartNenRunCommand: .*stopped' } | Should -HaveCount 1 -Because ($lines -join "`n")
        $lines | Where-Object { $_ -match ' Start-NenRun: .*stopped early' } | Should -HaveCount 1 -Because ($lines -join "`n")
        $lines | Where-Object { $_ -match ' Wait-NenRun: 0 ' } | Should -HaveCount 1 -Because ($lines -join "`n")
        $lines | Where-Object { $_ -match ' stopped by ' } | Should -BeNullOrEmpty
        $log | Should -Match 'NenUnauthorized' -Because $log
        $log | Should -Match 'API key was refused'
        $log | Should -Match 'stopped'
        ([regex]::Matches($log, 'NenUnauthorized,')).Count | Should -Be 1 -Because 'one error for the batch, not one per row'
        $log | Should -Not -Match 'this-key-was-revoked'
    }

    It 'the CSV recipe prints every error, the one that stopped the batch included (a refused key)' {
        # Acceptance (issue 25): the error that stopped the batch was printed as ": " (-ErrorVariable held it as a
        # CmdletInvocationException, whose FullyQualifiedErrorId and Exception are empty).
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'csv-refused')
        Copy-Item (Join-Path $script:scratch 'csv-batch.ps1'), (Join-Path $script:root 'docs/examples/jobs.csv') -Destination $folder
        $environment = @{} + $script:childEnvironment
        $environment['NEN_API_KEY'] = 'nen_demo_this-key-was-revoked'
        $run = Invoke-FreshPwsh -File (Join-Path $folder 'csv-batch.ps1') -WorkingDirectory $folder -Environment $environment
        $printed = @((Remove-Ansi $run.Output) -split "`r?`n" | Where-Object { $_ })

        Write-Host "  csv-batch.ps1 with a refused key printed: $($printed -join ' | ')"
        $printed | Should -Not -Contain ': '
        @($printed | Where-Object { $_ -match '^: ' }) | Should -BeNullOrEmpty
        $printed.Count | Should -Be 1 -Because 'one error for the batch, printed once'
        $printed[0] | Should -Match '^NenUnauthorized,NenAi\.Commands\.StartNenRunCommand: .*The API key was refused'
        $printed[0] | Should -Match '4 not sent \(rows 1-4;'
        "$($run.Output)$($run.Errors)" | Should -Not -Match 'this-key-was-revoked'
    }

    It 'the CSV recipe prints an error that ended a later command too (the key refused while Wait-NenRun follows the runs)' {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'csv-wait-refused')
        Copy-Item (Join-Path $script:scratch 'csv-batch.ps1'), (Join-Path $script:root 'docs/examples/jobs.csv') -Destination $folder
        # The emulator's demo runs take seconds: the key is revoked once the four runs are started, while Wait-NenRun polls.
        $before = @((Get-EmulatorLedger 'http://127.0.0.1:5080').runs).Count
        $job = Start-ThreadJob -ScriptBlock {
            param($Before)
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (@((Invoke-RestMethod 'http://127.0.0.1:5080/_emulator/ledger').runs).Count -lt $Before + 4 -and $clock.Elapsed.TotalSeconds -lt 60) { Start-Sleep -Milliseconds 20 }
            Invoke-RestMethod -Method Post -Uri 'http://127.0.0.1:5080/_emulator/keys/demo/revoke' | Out-Null
        } -ArgumentList $before
        try {
            $run = Invoke-FreshPwsh -File (Join-Path $folder 'csv-batch.ps1') -WorkingDirectory $folder -Environment $script:childEnvironment
        }
        finally {
            $job | Wait-Job -Timeout 60 | Remove-Job -Force
            Invoke-RestMethod -Method Post -Uri 'http://127.0.0.1:5080/_emulator/keys/demo/restore' | Out-Null
        }
        $printed = @((Remove-Ansi $run.Output) -split "`r?`n" | Where-Object { $_ })

        Write-Host "  csv-batch.ps1, key revoked while waiting, printed: $($printed -join ' | ')"
        @($printed | Where-Object { $_ -match '^: ' }) | Should -BeNullOrEmpty
        @($printed | Where-Object { $_ -match '^NenUnauthorized,NenAi\.Commands\.WaitNenRunCommand: ' }).Count | Should -Be 1
    }

    It 'the scheduled-task recipe exits non-zero when it is stopped (Ctrl+C) in the middle of its batch' -Skip:(-not $IsLinux) {
        $folder = New-Item -ItemType Directory -Path (Join-Path $TestDrive 'stopped')
        Copy-Item (Join-Path $script:scratch 'nightly-export.ps1'), (Join-Path $script:root 'docs/examples/jobs.csv') -Destination $folder
        $command = @(Get-PwshCommand)
        $psi = [System.Diagnostics.ProcessStartInfo]::new('env')
        # A run started in the background inherits SIGINT as ignored; a console or a scheduler's stop does not.
        foreach ($a in @('--default-signal=INT') + $command + @('-NoProfile', '-NonInteractive', '-File', (Join-Path $folder 'nightly-export.ps1'))) { $psi.ArgumentList.Add($a) }
        foreach ($name in $script:childEnvironment.Keys) {
            if ($null -eq $script:childEnvironment[$name]) { $null = $psi.Environment.Remove($name) } else { $psi.Environment[$name] = [string]$script:childEnvironment[$name] }
        }
        $psi.RedirectStandardOutput = $true; $psi.RedirectStandardError = $true; $psi.UseShellExecute = $false
        $process = [System.Diagnostics.Process]::Start($psi)
        try {
            $stdout = $process.StandardOutput.ReadToEndAsync(); $stderr = $process.StandardError.ReadToEndAsync()
            # Stopped once its runs are started: Wait-NenRun is then polling every 5 s.
            $journal = Join-Path $folder 'journals/jobs.jsonl'
            $clock = [System.Diagnostics.Stopwatch]::StartNew()
            while (-not ((Test-Path $journal) -and @(Get-Content $journal | Where-Object { $_ -match '"Accepted"' }).Count -ge 4)) {
                if ($process.HasExited -or $clock.Elapsed.TotalSeconds -gt 60) { throw "The batch did not start its runs: $($stdout.Result)$($stderr.Result)" }
                $null = $process.WaitForExit(100)
            }
            & kill -INT $process.Id
            $process.WaitForExit(30000) | Should -BeTrue
            $process.ExitCode | Should -Not -Be 0 -Because "a batch cut short is no success: $(Remove-Ansi "$($stdout.Result)$($stderr.Result)")"
        }
        finally { if (-not $process.HasExited) { $process.Kill($true) } }
    }

    It 'the scheduled-task recipe, run again, starts no row twice; a row fixed after a refusal is the only one sent; 0 once every row succeeds' {
        $csv = Join-Path $script:scratch 'jobs.csv'
        $nightly = Join-Path $script:scratch 'nightly-export.ps1'
        function Started { @((Get-EmulatorLedger 'http://127.0.0.1:5080').runs).Count }
        $before = Started

        # The same input again (a task killed and started again): nothing is sent twice, the FAIL row fails again.
        $again = Invoke-FreshPwsh -File $nightly -WorkingDirectory $script:scratch -Environment $script:childEnvironment
        Started | Should -Be $before
        $again.ExitCode | Should -Be 1 -Because 'the FAIL row failed again (it was not started again)'

        # The admin drops the FAIL row and adds one the service refuses (a negative AMOUNT): refused, nothing started.
        $rows = @(Import-Csv -LiteralPath $csv | Where-Object CUSTOMER_NAME -NE 'FAIL') + [pscustomobject]@{ JobId = '1005'; CUSTOMER_NAME = 'Edsger Dijkstra'; START_DATE = '2025-02-06'; AMOUNT = '-5'; RUSH = 'false' }
        $rows | Export-Csv -LiteralPath $csv -NoTypeInformation
        $refused = Invoke-FreshPwsh -File $nightly -WorkingDirectory $script:scratch -Environment $script:childEnvironment
        $refused.ExitCode | Should -Be 1
        $refused.Output | Should -Match 'Row 4 \(JobId 1005\)'
        Started | Should -Be $before

        # ... fixes it: that row alone is sent, and every row has succeeded.
        $rows[-1].AMOUNT = '5'
        $rows | Export-Csv -LiteralPath $csv -NoTypeInformation
        $good = Invoke-FreshPwsh -File $nightly -WorkingDirectory $script:scratch -Environment $script:childEnvironment
        $good.ExitCode | Should -Be 0 -Because (Remove-Ansi "$($good.Output)`n$($good.Errors)")
        Started | Should -Be ($before + 1)
    }
}
