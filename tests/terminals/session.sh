#!/usr/bin/env bash
# Runs inside the terminal under test (started by harness.py, never by hand).
#
# At start it marks the cells the harness measures the terminal by: cells (0,0)-(0,1) and the
# last row's last two cells in colour 57 (violet, in no 16-colour palette), cells (0,4)-(0,5)
# in reverse video (the text colour), and row 1 with the 16 colours, two cells each. Then, for each line read from the control FIFO, a job directory: it clears the
# screen (and kitty's images) and runs fouro with that job's environment, in the foreground,
# writing fouro's pid to <job>/pid and its exit status to <job>/exit. The screen is left as fouro
# left it until the next job, so the harness can check what quitting left behind. The line
# "quit" ends the session (and the terminal).
ctl=$1
exec 9<>"$ctl/jobs"

clear_all() {
    # Reset attributes, erase the screen and the scrollback, delete every kitty image.
    printf '\033[0m\033[2J\033[3J\033[H\033_Ga=d\033\\'
}

clear_all
printf '\033[?25l'
read -r rows cols < <(stty size)
printf '\033[1;1H\033[48;5;57m  \033[0m'
printf '\033[1;5H\033[7m  \033[0m'
printf '\033[2;1H'
for i in $(seq 0 15); do printf '\033[48;5;%dm  ' "$i"; done
printf '\033[0m'
printf '\033[%d;%dH\033[48;5;57m  \033[0m' "$rows" "$((cols - 1))"
printf '\033[1;9H\033[?25h'
tty > "$ctl/tty"
echo "$rows $cols" > "$ctl/size.tmp" && mv "$ctl/size.tmp" "$ctl/size"

while read -r job <&9; do
    [ "$job" = quit ] && exit 0
    clear_all
    (
        # shellcheck disable=SC1091
        . "$job/env.sh"
        echo "$BASHPID" > "$job/pid"
        exec "$FOURO_BIN" demo --duration "$FOURO_DEMO_DURATION"
    )
    echo "$?" > "$job/exit.tmp" && mv "$job/exit.tmp" "$job/exit"
done
