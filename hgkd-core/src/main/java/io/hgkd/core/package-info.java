/** Core of hgkd: eager modules with explicit backward over ND4J. */
package io.hgkd.core;
