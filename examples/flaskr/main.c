/* main.c - `flask --app flaskr ...`: ./flaskr init-db, ./flaskr run, ./flaskr routes. */
#include "flaskr.h"

int main(int argc, char **argv) { return vial_main(flaskr_create_app(NULL), argc, argv); }
